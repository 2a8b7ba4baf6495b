"""In-memory repositories and unit of work: fakes for handler unit tests (no I/O).

They keep the two uniqueness rules the database enforces (one shipment per order, unique tracking
numbers), so handler tests exercise the same paths as production; ``repository_contract.py`` runs
the same checks against these fakes and the SQL adapters.
"""

from __future__ import annotations

import copy
from uuid import UUID

from bookshelf_contracts import Message
from bookshelf_messaging.outbox import Lane
from bookshelf_shipping.domain.exceptions import TrackingNumberTaken
from bookshelf_shipping.domain.model import Refusal, Shipment
from bookshelf_shipping.service_layer.unit_of_work import RefusalRepository, ShipmentRepository, UnitOfWork


class InMemoryShipmentRepository(ShipmentRepository):
    """Shipments in a dict; hands out copies, like a database does."""

    def __init__(self, rows: dict[UUID, Shipment]) -> None:
        super().__init__()
        self.rows = rows

    async def _get(self, *, shipment_id: UUID | None = None, order_id: UUID | None = None) -> Shipment | None:
        for shipment in self.rows.values():
            if shipment.shipment_id == shipment_id or shipment.order_id == order_id:
                found = copy.deepcopy(shipment)
                found.events = []
                return found
        return None

    async def _add(self, shipment: Shipment) -> None:
        if any(s.tracking_number == shipment.tracking_number for s in self.rows.values()):
            raise TrackingNumberTaken(shipment.tracking_number)
        if any(s.order_id == shipment.order_id for s in self.rows.values()):
            raise RuntimeError(f"order {shipment.order_id} already has a shipment (unique constraint)")
        self._store(shipment)

    async def save(self, shipment: Shipment) -> None:
        """Replace the stored state."""
        self._store(shipment)

    def _store(self, shipment: Shipment) -> None:
        stored = copy.deepcopy(shipment)
        stored.events = []
        self.rows[shipment.shipment_id] = stored


class InMemoryRefusalRepository(RefusalRepository):
    """Refusals in a dict; the first refusal of an order wins."""

    def __init__(self, rows: dict[UUID, Refusal]) -> None:
        self.rows = rows

    async def get(self, order_id: UUID) -> Refusal | None:
        """The refusal of an order, or None."""
        return self.rows.get(order_id)

    async def add(self, refusal: Refusal) -> None:
        """Keep a refusal unless the order has one."""
        self.rows.setdefault(refusal.order_id, refusal)


class InMemoryUnitOfWork(UnitOfWork):
    """A unit of work over shared dicts; ``published`` collects what would go to the outbox.

    Create one per handler call (like a transaction) over the same ``shipments``/``refusals`` dicts.
    """

    def __init__(
        self,
        shipments: dict[UUID, Shipment] | None = None,
        refusals: dict[UUID, Refusal] | None = None,
        published: list[Message] | None = None,
    ) -> None:
        self.shipment_rows = shipments if shipments is not None else {}
        self.refusal_rows = refusals if refusals is not None else {}
        self.published = published if published is not None else []
        self.shipments = InMemoryShipmentRepository(self.shipment_rows)
        self.refusals = InMemoryRefusalRepository(self.refusal_rows)

    def fresh(self) -> InMemoryUnitOfWork:
        """A new unit of work over the same stored data and published list (the next transaction)."""
        return InMemoryUnitOfWork(self.shipment_rows, self.refusal_rows, self.published)

    async def _publish_events(self, events: list[Message], lane: Lane) -> None:
        self.published.extend(events)

    async def _commit(self) -> None:
        """The caller owns the transaction (nothing to do in memory)."""

    async def rollback(self) -> None:
        """Nothing to undo: a failed handler's changes are not read again."""
