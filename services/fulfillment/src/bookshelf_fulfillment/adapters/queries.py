"""Read side of the web view: saga instances straight from SQL (every worker answers for all of them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_fulfillment.adapters.orm import fulfillment_history, fulfillments
from bookshelf_fulfillment.domain.state import SagaStatus

F, H = fulfillments.c, fulfillment_history.c


def render(row: Any, history: list[Any]) -> dict[str, Any]:
    """``{order_id, state, deadline, history: [{event, at, action}]}`` (docs/reference/http.md) plus facts."""
    return {
        "order_id": str(row.order_id),
        "state": row.state,
        "deadline": row.deadline,
        "history": [
            {"event": h.event, "at": h.at, "action": h.action, "message_id": h.message_id} for h in history
        ],
        "correlation_id": row.correlation_id,
        "reserved": row.reserved,
        "shipment_id": str(row.shipment_id) if row.shipment_id else None,
        "tracking_number": row.tracking_number,
        "cancel_reason": row.cancel_reason,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


async def _histories(session: AsyncSession, order_ids: list[UUID]) -> dict[UUID, list[Any]]:
    found: dict[UUID, list[Any]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        query = sa.select(fulfillment_history).where(H.order_id.in_(order_ids)).order_by(H.id)
        for row in (await session.execute(query)).all():
            found[row.order_id].append(row)
    return found


async def one(session: AsyncSession, order_id: UUID) -> dict[str, Any] | None:
    """The instance of ``order_id`` with its history, or None."""
    row = (await session.execute(sa.select(fulfillments).where(F.order_id == order_id))).first()
    if row is None:
        return None
    return render(row, (await _histories(session, [order_id]))[order_id])


async def page(
    session: AsyncSession,
    *,
    state: SagaStatus | None,
    deadline_before: datetime | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """One page of instances (newest first) in the docs/reference/http.md list envelope."""
    conditions: list[Any] = []
    if state is not None:
        conditions.append(F.state == state.value)
    if deadline_before is not None:
        conditions.append(F.deadline < deadline_before)
    total = int(
        await session.scalar(sa.select(sa.func.count()).select_from(fulfillments).where(*conditions)) or 0
    )
    query = (
        sa.select(fulfillments)
        .where(*conditions)
        .order_by(F.created_at.desc(), F.order_id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    histories = await _histories(session, [row.order_id for row in rows])
    entries = [render(row, histories[row.order_id]) for row in rows]
    return {
        "entries": entries,
        "total": total,
        "limit": limit,
        "offset": offset,
        "page": offset // limit + 1,
        "total_pages": (total + limit - 1) // limit,
        "has_next": offset + len(entries) < total,
        "has_prev": offset > 0,
    }


async def pending_deadlines(session: AsyncSession) -> int:
    """How many instances wait with a deadline (the partial index answers it)."""
    query = sa.select(sa.func.count()).select_from(fulfillments).where(F.deadline.is_not(None))
    return int(await session.scalar(query) or 0)
