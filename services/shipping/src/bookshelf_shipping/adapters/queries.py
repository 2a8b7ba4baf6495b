"""Read side: shipments as the API shows them, straight from the table (no aggregate involved)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_shipping.adapters.orm import shipments

_COLUMNS = (
    shipments.c.shipment_id,
    shipments.c.order_id,
    shipments.c.status,
    shipments.c.tracking_number,
    shipments.c.address,
    shipments.c.lines,
    shipments.c.history,
    shipments.c.version,
    shipments.c.created_at,
    shipments.c.updated_at,
)


def _view(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


async def shipment_by_id(session: AsyncSession, shipment_id: UUID) -> dict[str, Any] | None:
    """One shipment's view, or None."""
    query = sa.select(*_COLUMNS).where(shipments.c.shipment_id == shipment_id)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _view(row)


async def list_shipments(
    session: AsyncSession, *, order_id: UUID | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of shipment views (newest first), optionally of one order, and the total count."""
    where = [shipments.c.order_id == order_id] if order_id is not None else []
    total = await session.scalar(sa.select(sa.func.count()).select_from(shipments).where(*where))
    query = (
        sa.select(*_COLUMNS)
        .where(*where)
        .order_by(shipments.c.created_at.desc(), shipments.c.shipment_id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    return [_view(row) for row in rows], int(total or 0)


async def awaiting_dispatch(session: AsyncSession, older_than_s: float) -> tuple[int, float, int]:
    """Shipments still CREATED: how many, the oldest one's age in seconds, and how many are older
    than ``older_than_s`` (their order's stock is held; docs/runbooks/BookshelfStockHeldAwaitingDispatch.md)."""
    row = (
        await session.execute(
            sa.text(
                "SELECT count(*) AS waiting,"
                " coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest,"
                " count(*) FILTER (WHERE created_at < now() - make_interval(secs => :limit)) AS overdue"
                " FROM shipments WHERE status = 'CREATED'"
            ),
            {"limit": older_than_s},
        )
    ).one()
    return int(row.waiting), float(row.oldest), int(row.overdue)
