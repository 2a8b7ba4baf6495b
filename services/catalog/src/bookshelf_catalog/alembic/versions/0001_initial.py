"""Initial catalog schema: books, supplier_payloads, idempotency_keys, outbox and inbox.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from bookshelf_messaging.schema import create_messaging_schema, drop_messaging_schema
from bookshelf_servicekit.idempotency import create_idempotency_table, drop_idempotency_table
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "books",
        sa.Column("book_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("isbn", sa.Text, nullable=True),
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
        sa.UniqueConstraint("isbn", name="books_isbn_key"),
    )
    op.create_index("ix_books_title", "books", ["title"])
    op.create_index("ix_books_created_at", "books", ["created_at", "book_id"])
    op.create_table(
        "supplier_payloads",
        sa.Column("payload_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("message_id", UUID(as_uuid=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_idempotency_table(op)
    create_messaging_schema(op)


def downgrade() -> None:
    drop_messaging_schema(op)
    drop_idempotency_table(op)
    op.drop_table("supplier_payloads")
    op.drop_index("ix_books_created_at", table_name="books")
    op.drop_index("ix_books_title", table_name="books")
    op.drop_table("books")
