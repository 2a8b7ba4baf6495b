"""Saga instances in PostgreSQL, always inside the caller's transaction.

``lock`` reads one instance with its history and holds its row lock until the transaction ends, so
two transactions about one order (a redelivery on a second worker, the deadline timer) run one
after the other. ``lock_expired`` claims instances whose deadline passed with ``SKIP LOCKED``: every
worker's timer takes different ones, and an instance an event is being handled for is left alone.
``save`` writes the decision: the instance row, one history row, and the commands as outbox rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from bookshelf_messaging import Outbox, context
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_fulfillment.adapters.orm import fulfillment_history, fulfillments
from bookshelf_fulfillment.domain.messages import OutgoingCommand
from bookshelf_fulfillment.domain.saga import Decision
from bookshelf_fulfillment.domain.state import SagaState

# The instance and its history in one round trip; the lock covers the instance row only.
_SELECT = """
SELECT f.*, coalesce((
    SELECT json_agg(json_build_object('message_id', h.message_id, 'event', h.event, 'at', h.at,
                                      'action', h.action) ORDER BY h.id)
    FROM fulfillment_history AS h WHERE h.order_id = f.order_id), '[]'::json) AS history
FROM fulfillments AS f
"""
LOCK_SQL = sa.text(_SELECT + "WHERE f.order_id = :order_id FOR UPDATE OF f")
LOCK_EXPIRED_SQL = sa.text(
    _SELECT + "WHERE f.deadline <= :now ORDER BY f.deadline LIMIT :limit FOR UPDATE OF f SKIP LOCKED"
)


def to_state(row: Any) -> SagaState:
    """A ``fulfillments`` row (with its ``history`` JSON) as the domain's instance."""
    return SagaState.model_validate(dict(row._mapping))


async def lock(session: AsyncSession, order_id: UUID) -> SagaState | None:
    """The instance of ``order_id`` (None: no saga yet), locked until the transaction ends."""
    row = (await session.execute(LOCK_SQL, {"order_id": order_id})).first()
    return to_state(row) if row is not None else None


async def lock_expired(session: AsyncSession, now: datetime, limit: int) -> list[SagaState]:
    """Up to ``limit`` instances whose deadline is at or before ``now``, oldest first, locked; rows
    another transaction holds are skipped (they are being handled, or another timer has them)."""
    rows = (await session.execute(LOCK_EXPIRED_SQL, {"now": now, "limit": limit})).all()
    return [to_state(row) for row in rows]


def _columns(state: SagaState) -> dict[str, Any]:
    return {
        "state": state.state.value,
        "correlation_id": state.correlation_id,
        "lines": [line.model_dump(mode="json") for line in state.lines],
        "address": state.address.model_dump(mode="json"),
        "reserve_requested": state.reserve_requested,
        "reserved": state.reserved,
        "shipment_requested": state.shipment_requested,
        "shipment_id": state.shipment_id,
        "tracking_number": state.tracking_number,
        "cancel_reason": state.cancel_reason,
        "deadline": state.deadline,
        "deadline_set_by": state.deadline_set_by,
        "updated_at": state.updated_at,
    }


async def save(session: AsyncSession, outbox: Outbox, decision: Decision, *, existed: bool) -> None:
    """Write what ``decision`` changed: the instance, its history entry, and its commands."""
    state = decision.new_state
    if state is None:
        return
    columns = _columns(state)
    statement: sa.Insert | sa.Update
    if existed:
        statement = (
            sa.update(fulfillments)
            .where(fulfillments.c.order_id == state.order_id)
            .values(**columns, version=fulfillments.c.version + 1)
        )
    else:
        statement = sa.insert(fulfillments).values(
            order_id=state.order_id, created_at=state.created_at, version=1, **columns
        )
    await session.execute(statement)
    if decision.entry is not None:
        entry = decision.entry
        await session.execute(
            sa.insert(fulfillment_history).values(
                order_id=state.order_id,
                message_id=entry.message_id,
                event=entry.event,
                at=entry.at,
                action=entry.action,
            )
        )
    await write_commands(session, outbox, decision.commands)


async def write_commands(session: AsyncSession, outbox: Outbox, commands: Sequence[OutgoingCommand]) -> None:
    """One outbox row per command, with its deterministic id and the ids it inherits from its cause."""
    for outgoing in commands:
        with context.bind(outgoing.correlation_id, outgoing.causation_id):
            await outbox.add(session, outgoing.command, message_id=outgoing.message_id)
