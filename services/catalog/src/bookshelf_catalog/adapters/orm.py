"""Tables of the catalog database (SQLAlchemy Core; the migrations create the same schema)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()

books = sa.Table(
    "books",
    metadata,
    sa.Column("book_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("isbn", sa.Text, nullable=True, unique=True),
    sa.Column("price_amount", sa.Numeric(14, 2), nullable=False),
    sa.Column("price_currency", sa.String(3), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("genre", sa.Text, nullable=True),
    sa.Column("tags", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("page_count", sa.Integer, nullable=True),
    sa.Column("publication_date", sa.Date, nullable=True),
    sa.Column("in_print", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_books_title", "title"),
    sa.Index("ix_books_created_at", "created_at", "book_id"),
)

supplier_payloads = sa.Table(
    "supplier_payloads",
    metadata,
    sa.Column("payload_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("message_id", UUID(as_uuid=True), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)
