"""Service layer: handlers and the unit of work."""
