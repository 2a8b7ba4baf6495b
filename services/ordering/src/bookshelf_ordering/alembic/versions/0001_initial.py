"""Ordering's tables: orders, order_lines, catalog_books, idempotency_keys, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2024-11-26
"""

import sqlalchemy as sa
from alembic import op
from bookshelf_messaging.schema import create_messaging_schema, drop_messaging_schema
from bookshelf_servicekit.idempotency import create_idempotency_table, drop_idempotency_table
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _orders() -> None:
    op.create_table(
        "orders",
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
    )
    op.create_index("ix_orders_email_created", "orders", [sa.text("lower(customer_email)"), "created_at"])
    op.create_index("ix_orders_status_created", "orders", ["status", "created_at"])
    op.create_index("ix_orders_created", "orders", ["created_at"])


def _order_lines() -> None:
    op.create_table(
        "order_lines",
        sa.Column(
            "order_id", sa.Uuid, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("book_id", sa.Uuid, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_amount", sa.Numeric(14, 2), nullable=False),
    )


def _catalog_books() -> None:
    op.create_table(
        "catalog_books",
        sa.Column("book_id", sa.Uuid, primary_key=True),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("title_version", sa.Integer, nullable=False),
        sa.Column("price_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def upgrade() -> None:
    _orders()
    _order_lines()
    _catalog_books()
    create_idempotency_table(op)
    create_messaging_schema(op)


def downgrade() -> None:
    drop_messaging_schema(op)
    drop_idempotency_table(op)
    op.drop_table("catalog_books")
    op.drop_table("order_lines")
    op.drop_table("orders")
