"""Adapters: tables, repositories and read queries on PostgreSQL."""
