"""Adapters: tables, repositories, the SQL unit of work, read queries, and in-memory fakes."""
