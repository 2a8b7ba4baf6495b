"""Shipments and refusals on PostgreSQL through the caller's AsyncSession."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from bookshelf_contracts import Address, StockLine
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_shipping.adapters.orm import TRACKING_CONSTRAINT, shipment_refusals, shipments
from bookshelf_shipping.domain.exceptions import TrackingNumberTaken
from bookshelf_shipping.domain.model import HistoryEntry, Refusal, RefusalKind, Shipment, ShipmentStatus
from bookshelf_shipping.service_layer.unit_of_work import RefusalRepository, ShipmentRepository


def history_to_json(history: list[HistoryEntry]) -> list[dict[str, Any]]:
    """History entries as stored (times ISO-8601)."""
    return [{"status": h.status.value, "at": h.at.isoformat(), "reason": h.reason} for h in history]


def history_from_json(stored: list[dict[str, Any]]) -> list[HistoryEntry]:
    """The inverse of ``history_to_json``."""
    return [
        HistoryEntry(ShipmentStatus(h["status"]), datetime.fromisoformat(h["at"]), h.get("reason"))
        for h in stored
    ]


def _to_shipment(row: sa.Row[Any]) -> Shipment:
    return Shipment(
        shipment_id=row.shipment_id,
        order_id=row.order_id,
        tracking_number=row.tracking_number,
        address=Address.model_validate(row.address),
        lines=[StockLine.model_validate(line) for line in row.lines],
        status=ShipmentStatus(row.status),
        version=row.version,
        history=history_from_json(row.history),
    )


def _is_tracking_collision(error: IntegrityError) -> bool:
    # asyncpg names the violated constraint in the message; the order constraint is left to raise
    # (a concurrent create for the same order: the runner retries and then finds that shipment).
    return TRACKING_CONSTRAINT in str(error.orig)


class SqlShipmentRepository(ShipmentRepository):
    """Shipments in the ``shipments`` table."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def _get(self, *, shipment_id: UUID | None = None, order_id: UUID | None = None) -> Shipment | None:
        query = sa.select(shipments).with_for_update()
        if shipment_id is not None:
            query = query.where(shipments.c.shipment_id == shipment_id)
        else:
            query = query.where(shipments.c.order_id == order_id)
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else _to_shipment(row)

    async def _add(self, shipment: Shipment) -> None:
        created_at = shipment.history[0].at
        values = {
            "shipment_id": shipment.shipment_id,
            "order_id": shipment.order_id,
            "tracking_number": shipment.tracking_number,
            "status": shipment.status.value,
            "address": shipment.address.model_dump(mode="json"),
            "lines": [line.model_dump(mode="json") for line in shipment.lines],
            "history": history_to_json(shipment.history),
            "version": shipment.version,
            "created_at": created_at,
            "updated_at": created_at,
        }
        try:
            # A savepoint: a collision must not abort the caller's transaction.
            async with self.session.begin_nested():
                await self.session.execute(sa.insert(shipments).values(values))
        except IntegrityError as exc:
            if _is_tracking_collision(exc):
                raise TrackingNumberTaken(shipment.tracking_number) from exc
            raise

    async def save(self, shipment: Shipment) -> None:
        """Store status, version and history (the row is locked by ``get``/``for_order``)."""
        await self.session.execute(
            sa.update(shipments)
            .where(shipments.c.shipment_id == shipment.shipment_id)
            .values(
                status=shipment.status.value,
                version=shipment.version,
                history=history_to_json(shipment.history),
                updated_at=shipment.history[-1].at,
            )
        )


class SqlRefusalRepository(RefusalRepository):
    """Refusals in the ``shipment_refusals`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: UUID) -> Refusal | None:
        """The refusal of an order, or None."""
        query = sa.select(shipment_refusals).where(shipment_refusals.c.order_id == order_id)
        row = (await self.session.execute(query)).one_or_none()
        if row is None:
            return None
        return Refusal(row.order_id, RefusalKind(row.kind), row.reason, row.refused_at)

    async def add(self, refusal: Refusal) -> None:
        """Keep a refusal; the first one of an order wins."""
        await self.session.execute(
            insert(shipment_refusals)
            .values(
                order_id=refusal.order_id,
                kind=refusal.kind.value,
                reason=refusal.reason,
                refused_at=refusal.at,
            )
            .on_conflict_do_nothing(index_elements=["order_id"])
        )
