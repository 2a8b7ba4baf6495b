"""Adapters of the catalog: tables, repositories, the SQL unit of work, read queries."""
