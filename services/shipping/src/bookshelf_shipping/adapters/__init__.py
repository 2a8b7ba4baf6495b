"""Adapters: tables, repositories, the SQL unit of work and read queries (fakes live in tests/fakes.py)."""
