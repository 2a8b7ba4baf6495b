"""Read queries (CQRS: routes read straight from here, never through the aggregates)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

_INVENTORY_COLUMNS = (
    "s.book_id, coalesce(b.title, '') AS title, s.on_hand, s.reserved, "
    "s.on_hand - s.reserved AS available, s.version"
)
_INVENTORY_FROM = "FROM stock AS s LEFT JOIN catalog_books AS b ON b.book_id = s.book_id"
_ONE = sa.text(f"SELECT {_INVENTORY_COLUMNS} {_INVENTORY_FROM} WHERE s.book_id = :book_id")
_RESERVATION = sa.text(
    "SELECT r.order_id, r.status, r.short_lines, l.book_id, l.quantity "
    "FROM reservations AS r LEFT JOIN reservation_lines AS l ON l.order_id = r.order_id "
    "WHERE r.order_id = :order_id ORDER BY l.book_id"
)
# Conservation (docs/domain.md): per record on_hand = initial + restocked - committed, and reserved = the
# sum of its open (RESERVED) reservation lines. Rows returned are drift; none means all is well.
_DRIFT = sa.text(
    "SELECT s.book_id, s.on_hand, s.reserved, s.initial_stock, s.restocked_total, s.committed_total, "
    "coalesce(o.open_reserved, 0) AS open_reserved "
    "FROM stock AS s LEFT JOIN ("
    " SELECT l.book_id, sum(l.quantity) AS open_reserved FROM reservation_lines AS l"
    " JOIN reservations AS r ON r.order_id = l.order_id AND r.status = 'RESERVED'"
    " GROUP BY l.book_id"
    ") AS o ON o.book_id = s.book_id "
    "WHERE s.on_hand <> s.initial_stock + s.restocked_total - s.committed_total "
    "OR s.reserved <> coalesce(o.open_reserved, 0) "
    "ORDER BY s.book_id"
)


async def inventory_of(session: AsyncSession, book_id: UUID) -> dict[str, Any] | None:
    """``{book_id, title, on_hand, reserved, available, version}`` of one book, or None."""
    row = (await session.execute(_ONE, {"book_id": book_id})).mappings().first()
    return dict(row) if row is not None else None


async def list_inventory(
    session: AsyncSession, *, low_stock_below: int | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of records ordered by title then book_id, and the total; optionally only low stock."""
    where = "WHERE s.on_hand - s.reserved < :below" if low_stock_below is not None else ""
    params: dict[str, Any] = {"below": low_stock_below, "limit": limit, "offset": offset}
    if low_stock_below is None:
        params.pop("below")
    total = (await session.execute(sa.text(f"SELECT count(*) FROM stock AS s {where}"), params)).scalar_one()
    page = await session.execute(
        sa.text(
            f"SELECT {_INVENTORY_COLUMNS} {_INVENTORY_FROM} {where} "
            "ORDER BY b.title NULLS LAST, s.book_id LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return [dict(row) for row in page.mappings()], int(total)


async def reservation_of(session: AsyncSession, order_id: UUID) -> dict[str, Any] | None:
    """``{order_id, status, lines: [{book_id, quantity}], short_lines}`` of one order, or None."""
    rows = (await session.execute(_RESERVATION, {"order_id": order_id})).all()
    if not rows:
        return None
    return {
        "order_id": rows[0].order_id,
        "status": rows[0].status,
        "lines": [{"book_id": r.book_id, "quantity": r.quantity} for r in rows if r.book_id is not None],
        "short_lines": rows[0].short_lines or [],
    }


async def conservation_drift(session: AsyncSession) -> list[dict[str, Any]]:
    """Records that break conservation (for ``bookshelf audit`` and tests); empty when none do."""
    return [dict(row) for row in (await session.execute(_DRIFT)).mappings()]
