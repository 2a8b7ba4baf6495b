"""The catalog's domain: the Book aggregate, its rules and its events (plain Python, no I/O)."""
