"""Tables of the inventory database (SQLAlchemy Core; the migration creates the same).

CHECK constraints hold the rules of docs/domain.md even against a buggy writer: on_hand and reserved are
never negative, available (on_hand - reserved) is never negative, and every record satisfies
conservation ``on_hand = initial_stock + restocked_total - committed_total``. The other half of
conservation (reserved = sum of open reservation lines) spans tables and is checked by the audit
query in ``queries.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

RESERVATION_STATUSES = ("RESERVED", "RELEASED", "COMMITTED", "FAILED")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


# Inventory's replica of the catalog facts it needs: the title (for reads) and ISBN -> book_id
# (supplier restocks by ISBN). Applied by catalog version, so a late older event changes nothing.
catalog_books = sa.Table(
    "catalog_books",
    metadata,
    sa.Column("book_id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("isbn", sa.Text, nullable=True),
    sa.Column("catalog_version", sa.Integer, nullable=False),
    sa.Index("ix_catalog_books_isbn", "isbn"),
    # GET /inventory pages are ordered by title.
    sa.Index("ix_catalog_books_title", "title", "book_id"),
)

stock = sa.Table(
    "stock",
    metadata,
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
    # GET /inventory?low_stock=true filters on available.
    sa.Index("ix_stock_available", sa.text("(on_hand - reserved)")),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    # The answer of a refused reservation: [{book_id, requested, available}].
    sa.Column("short_lines", JSONB, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.CheckConstraint(
        "status IN ('RESERVED', 'RELEASED', 'COMMITTED', 'FAILED')", name="ck_reservations_status"
    ),
)

reservation_lines = sa.Table(
    "reservation_lines",
    metadata,
    sa.Column(
        "order_id",
        sa.Uuid,
        sa.ForeignKey("reservations.order_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("book_id", sa.Uuid, primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity > 0", name="ck_reservation_lines_quantity_positive"),
    sa.Index("ix_reservation_lines_book_id", "book_id"),
)
