"""Reads of BookReport and OrderTracking for the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_storefront.adapters.queries import Entry, money, order_by, page_of
from bookshelf_storefront.adapters.views import book_report, order_tracking
from bookshelf_storefront.domain.queries import Sort

_r = book_report.c
REPORT_SORT_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "units_sold": _r.units_sold,
    "revenue": sa.func.coalesce(sa.cast(_r.revenue.op("->>")(_r.price_currency), sa.Numeric), 0),
    "price_changes": sa.func.cardinality(_r.price_change_versions),
    "title": _r.title,
    "author": _r.author,
    "updated_at": _r.updated_at,
}


def report_entry(row: Any) -> Entry:
    """One BookReport entry: the full book state, price changes, units sold and revenue.

    ``revenue`` is in the book's price currency; ``revenue_by_currency`` lists every currency the
    book sold in (Money is never added across currencies).
    """
    revenue: dict[str, Any] = row.revenue or {}
    by_currency = [money(Decimal(amount), currency) for currency, amount in sorted(revenue.items())]
    main = Decimal(str(revenue.get(row.price_currency, 0)))
    return {
        "book_id": str(row.book_id),
        "title": row.title,
        "author": row.author,
        "isbn": row.isbn,
        "genre": row.genre,
        "description": row.description,
        "tags": row.tags or [],
        "page_count": row.page_count,
        "publication_date": row.publication_date,
        "in_print": row.in_print,
        "price": money(row.price_amount, row.price_currency),
        "price_changes": len(row.price_change_versions or []),
        "units_sold": row.units_sold,
        "revenue": money(main.quantize(Decimal("0.01")), row.price_currency),
        "revenue_by_currency": by_currency,
        "updated_at": row.updated_at,
    }


async def report_page(session: AsyncSession, sort: Sort, limit: int, offset: int) -> tuple[list[Entry], int]:
    """A page of BookReport entries (books known to the catalog) and the total."""
    ordering = order_by(REPORT_SORT_COLUMNS[sort.key], _r.book_id, sort)
    rows, total = await page_of(session, book_report, [_r.details_version > 0], ordering, (limit, offset))
    return [report_entry(row) for row in rows], total


def tracking_entry(row: Any) -> Entry:
    """One OrderTracking entry; history entries without the internal version.

    Public by its unguessable order id, so it shows no personal data (no name, e-mail or address).
    """
    history = [{k: v for k, v in entry.items() if k != "version"} for entry in row.history or []]
    return {
        "order_id": str(row.order_id),
        "status": row.status,
        "total": money(row.total_amount, row.total_currency),
        "tracking_number": row.tracking_number,
        "shipment_status": row.shipment_status,
        "history": history,
        "updated_at": row.updated_at,
    }


async def tracking_one(session: AsyncSession, order_id: UUID) -> Entry | None:
    """The tracking of one order, or None until an ordering event of it arrived."""
    c = order_tracking.c
    query = sa.select(order_tracking).where(c.order_id == order_id, c.status.is_not(None))
    row = (await session.execute(query)).one_or_none()
    return None if row is None else tracking_entry(row)
