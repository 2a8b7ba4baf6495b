"""Ordering's service layer: handlers, the unit of work and the order view."""
