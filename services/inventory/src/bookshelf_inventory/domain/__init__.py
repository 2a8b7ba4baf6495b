"""Inventory domain: stock records, reservations and the supplier translation; plain Python, no I/O."""
