"""SQL text of the order-driven projection writes (BookReport sales, report orders, OrderTracking).

Cached per table name: the text is the prepared statement key. Per-book upserts are in sql_books.py.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


@lru_cache(maxsize=16)
def sales_upsert(table: str) -> sa.TextClause:
    """Add ``quantity`` units and ``amount`` of revenue in ``currency`` to a book (negative subtracts).

    Revenue is a JSON object of exact decimal strings per currency (``{"USD": "30.00"}``): JSON
    numbers would come back as floats.
    """
    return sa.text(f"""
INSERT INTO {table} AS cur (book_id, units_sold, revenue, updated_at)
VALUES (:book_id, :quantity,
        jsonb_build_object(CAST(:currency AS text), CAST(CAST(:amount AS numeric(14, 2)) AS text)), :at)
ON CONFLICT (book_id) DO UPDATE SET
units_sold = cur.units_sold + excluded.units_sold,
revenue = cur.revenue || jsonb_build_object(
    CAST(:currency AS text),
    CAST(CAST(COALESCE(CAST(cur.revenue ->> CAST(:currency AS text) AS numeric), 0) + CAST(:amount AS numeric)
              AS numeric(14, 2)) AS text)),
updated_at = GREATEST(cur.updated_at, excluded.updated_at)""")


@lru_cache(maxsize=32)
def ensure_rows(table: str, key: str) -> sa.TextClause:
    """Create an empty row for each of ``keys`` (``updated_at`` from ``ats``) unless one exists."""
    return sa.text(
        f"INSERT INTO {table} ({key}, updated_at)"
        " SELECT k, a FROM unnest(CAST(:keys AS uuid[]), CAST(:ats AS timestamptz[])) AS u(k, a)"
        f" ON CONFLICT ({key}) DO NOTHING"
    )


@lru_cache(maxsize=16)
def lock_books(table: str) -> sa.TextClause:
    """Lock the rows of ``keys`` in book id order in one pass, creating the missing ones (empty, with
    ``updated_at`` from ``ats``); existing rows are only locked (``WHERE false`` updates nothing)."""
    return sa.text(
        f"INSERT INTO {table} AS cur (book_id, updated_at)"
        " SELECT k, a FROM unnest(CAST(:keys AS uuid[]), CAST(:ats AS timestamptz[])) AS u(k, a) ORDER BY k"
        " ON CONFLICT (book_id) DO UPDATE SET updated_at = cur.updated_at WHERE false"
    )


@lru_cache(maxsize=32)
def lock_rows(table: str, key: str, columns: tuple[str, ...]) -> sa.TextClause:
    """Read the rows of ``keys`` FOR UPDATE, locked in key order (so batches never deadlock)."""
    return sa.text(
        f"SELECT {key}, {', '.join(columns)} FROM {table}"
        f" WHERE {key} = ANY(CAST(:keys AS uuid[])) ORDER BY {key} FOR UPDATE"
    )


@lru_cache(maxsize=32)
def update_row(
    table: str, key: str, columns: tuple[str, ...], json_columns: tuple[str, ...]
) -> sa.TextClause:
    """Overwrite one row's columns."""
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    clause = sa.text(f"UPDATE {table} SET {assignments} WHERE {key} = :key")
    return clause.bindparams(*(sa.bindparam(c, type_=JSONB) for c in json_columns))
