"""The read-model views as SQLAlchemy Core tables, for the API's queries (never created from here)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

views = sa.MetaData()


def _book_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("book_id", sa.Uuid, primary_key=True),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("isbn", sa.Text),
        sa.Column("price_amount", sa.Numeric(14, 2)),
        sa.Column("price_currency", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("details_version", sa.Integer),
        sa.Column("price_version", sa.Integer),
    ]


storefront_view = sa.Table(
    "storefront_view",
    views,
    *_book_columns(),
    sa.Column("genre", sa.Text),
    sa.Column("available", sa.Integer),
    sa.Column("in_stock", sa.Boolean),
    sa.Column("stock_version", sa.Integer),
)

book_catalog = sa.Table("book_catalog", views, *_book_columns())

book_report = sa.Table(
    "book_report",
    views,
    *_book_columns(),
    sa.Column("genre", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("tags", JSONB),
    sa.Column("page_count", sa.Integer),
    sa.Column("publication_date", sa.Date),
    sa.Column("in_print", sa.Boolean),
    sa.Column("price_change_versions", ARRAY(sa.Integer)),
    sa.Column("units_sold", sa.Integer),
    sa.Column("revenue", JSONB),
)

order_tracking = sa.Table(
    "order_tracking",
    views,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("status", sa.Text),
    sa.Column("customer_email", sa.Text),
    sa.Column("total_amount", sa.Numeric(14, 2)),
    sa.Column("total_currency", sa.Text),
    sa.Column("tracking_number", sa.Text),
    sa.Column("shipment_status", sa.Text),
    sa.Column("history", JSONB),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("order_version", sa.Integer),
    sa.Column("shipment_version", sa.Integer),
)


def grams(prefix: str, value: sa.ColumnElement[str] | str) -> sa.ColumnElement[Any]:
    """``sf_grams(prefix, value)``: the trigrams the GIN index of storefront_view holds."""
    # The prefix is inlined (not a bind parameter) so the expression matches the index's expression.
    return sa.func.sf_grams(sa.literal_column(f"'{prefix}'", sa.Text), value, type_=ARRAY(sa.Text))


def indexed_grams() -> sa.ColumnElement[Any]:
    """The exact expression of the trigram index (title trigrams prefixed ``t``, author ``a``)."""
    c = storefront_view.c
    return grams("t", c.title).op("||", return_type=ARRAY(sa.Text))(grams("a", c.author))
