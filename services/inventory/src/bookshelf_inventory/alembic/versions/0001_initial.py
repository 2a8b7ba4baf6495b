"""Initial schema: catalog replica, stock, reservations with lines, idempotency keys, outbox/inbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from bookshelf_messaging.schema import create_messaging_schema, drop_messaging_schema
from bookshelf_servicekit.idempotency import create_idempotency_table, drop_idempotency_table
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "catalog_books",
        sa.Column("book_id", sa.Uuid, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("isbn", sa.Text, nullable=True),
        sa.Column("catalog_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_catalog_books_isbn", "catalog_books", ["isbn"])
    op.create_index("ix_catalog_books_title", "catalog_books", ["title", "book_id"])
    op.create_table(
        "stock",
        sa.Column("book_id", sa.Uuid, primary_key=True),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("initial_stock", sa.Integer, nullable=False),
        sa.Column("restocked_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("committed_total", sa.BigInteger, nullable=False, server_default="0"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="ck_stock_reserved_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="ck_stock_available_not_negative"),
        sa.CheckConstraint("version >= 1", name="ck_stock_version_positive"),
        sa.CheckConstraint(
            "on_hand = initial_stock + restocked_total - committed_total", name="ck_stock_conservation"
        ),
    )
    op.create_index("ix_stock_available", "stock", [sa.text("(on_hand - reserved)")])
    op.create_table(
        "reservations",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("short_lines", JSONB, nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(
            "status IN ('RESERVED', 'RELEASED', 'COMMITTED', 'FAILED')", name="ck_reservations_status"
        ),
    )
    op.create_table(
        "reservation_lines",
        sa.Column(
            "order_id",
            sa.Uuid,
            sa.ForeignKey("reservations.order_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("book_id", sa.Uuid, primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_reservation_lines_quantity_positive"),
    )
    op.create_index("ix_reservation_lines_book_id", "reservation_lines", ["book_id"])
    create_idempotency_table(op)
    create_messaging_schema(op)


def downgrade() -> None:
    drop_messaging_schema(op)
    drop_idempotency_table(op)
    op.drop_table("reservation_lines")
    op.drop_table("reservations")
    op.drop_table("stock")
    op.drop_table("catalog_books")
