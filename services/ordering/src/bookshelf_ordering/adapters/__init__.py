"""Ordering's adapters: tables, repositories, read queries, unit of work."""
