"""Ordering's domain: the Order aggregate, placement rules and errors (plain Python, no I/O)."""
