"""Ports the handlers use: repositories and the unit of work (implemented in adapters).

A unit of work always joins a transaction its caller owns (the consumer runner's, or the one an HTTP
route opens). ``commit()`` marks the work complete: it hands the events recorded by every shipment it
handed out, and the messages announced explicitly, to the outbox in that transaction; the owner then
commits, so the change and its events are stored together or not at all.
"""

from __future__ import annotations

import abc
from uuid import UUID

from bookshelf_contracts import Event

from bookshelf_shipping.domain.model import Refusal, Shipment


class ShipmentRepository(abc.ABC):
    """Shipments by id or order; remembers every shipment it hands out or stores (``seen``)."""

    def __init__(self) -> None:
        self.seen: list[Shipment] = []

    async def get(self, shipment_id: UUID) -> Shipment | None:
        """The shipment, locked until the transaction ends (concurrent changes queue up), or None."""
        return self._saw(await self._get(shipment_id=shipment_id))

    async def for_order(self, order_id: UUID) -> Shipment | None:
        """The order's shipment, locked like ``get``, or None."""
        return self._saw(await self._get(order_id=order_id))

    async def add(self, shipment: Shipment) -> None:
        """Store a new shipment; raises TrackingNumberTaken when its tracking number is in use."""
        await self._add(shipment)
        self._saw(shipment)

    @abc.abstractmethod
    async def save(self, shipment: Shipment) -> None:
        """Store the changed status, version and history of a shipment from ``get``/``for_order``."""

    def _saw(self, shipment: Shipment | None) -> Shipment | None:
        if shipment is not None and shipment not in self.seen:
            self.seen.append(shipment)
        return shipment

    @abc.abstractmethod
    async def _get(
        self, *, shipment_id: UUID | None = None, order_id: UUID | None = None
    ) -> Shipment | None: ...

    @abc.abstractmethod
    async def _add(self, shipment: Shipment) -> None: ...


class RefusalRepository(abc.ABC):
    """Orders that get no shipment, with the reason."""

    @abc.abstractmethod
    async def get(self, order_id: UUID) -> Refusal | None:
        """The refusal of an order, or None."""

    @abc.abstractmethod
    async def add(self, refusal: Refusal) -> None:
        """Keep a refusal (an order already refused keeps its first refusal)."""


class UnitOfWork(abc.ABC):
    """The repositories of one transaction and the hand-over of events to the outbox."""

    shipments: ShipmentRepository
    refusals: RefusalRepository

    def __init__(self) -> None:
        self._announced: list[Event] = []

    def announce(self, event: Event) -> None:
        """Queue an event no aggregate recorded (ShipmentFailed, a repeated ShipmentCreated)."""
        self._announced.append(event)

    def collect_events(self) -> list[Event]:
        """Take the events of every shipment seen, then the announced ones."""
        events: list[Event] = []
        for shipment in self.shipments.seen:
            events.extend(shipment.pull_events())
        events.extend(self._announced)
        self._announced = []
        return events

    async def commit(self) -> None:
        """Hand every collected event to the outbox (the transaction's owner commits)."""
        for event in self.collect_events():
            await self._publish(event)

    @abc.abstractmethod
    async def _publish(self, event: Event) -> None: ...
