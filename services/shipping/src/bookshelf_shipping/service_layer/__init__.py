"""Command handlers and the unit-of-work port they use."""
