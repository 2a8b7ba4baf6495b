"""Ordering's tables (SQLAlchemy Core). The Alembic migration creates the same shapes.

- ``orders``: one row per order; ``history`` is an append-only JSON list read and written whole.
- ``order_lines``: the priced lines of an order (immutable once placed).
- ``catalog_books``: the catalog replica, one row per book, with a version per part so a replayed
  or reordered event never regresses a row (title from BookAdded/BookDetailsUpdated, price also from
  BookPriceUpdated; the bulk lane may deliver a BookAdded after a later price change).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("customer_email", sa.Text, nullable=False),
    sa.Column("shipping_address", JSONB, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("total_amount", sa.Numeric(14, 2), nullable=False),
    sa.Column("tracking_number", sa.Text, nullable=True),
    sa.Column("cancellation_reason", sa.Text, nullable=True),
    sa.Column("history", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # SHA-256 (hex) of the order's access token; the token itself is never stored.
    sa.Column("access_token_hash", sa.Text, nullable=True),
    sa.Index("ix_orders_email_created", sa.func.lower(sa.column("customer_email")), "created_at"),
    sa.Index("ix_orders_status_created", "status", "created_at"),
    sa.Index("ix_orders_created", "created_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("order_id", sa.Uuid, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("book_id", sa.Uuid, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_amount", sa.Numeric(14, 2), nullable=False),
)

catalog_books = sa.Table(
    "catalog_books",
    metadata,
    sa.Column("book_id", sa.Uuid, primary_key=True),
    # NULL until a BookAdded/BookDetailsUpdated arrives (a price change may come first).
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("title_version", sa.Integer, nullable=False),
    sa.Column("price_amount", sa.Numeric(14, 2), nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("price_version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
