"""Ports the handlers use: repositories and the unit of work (implemented in adapters).

A unit of work always joins a transaction its caller owns (the consumer runner's, or the one an HTTP
route opens). ``commit()`` (``bookshelf_messaging.unit_of_work``) marks the work complete: it hands
the events recorded by every shipment it handed out, and the messages announced explicitly, to the
outbox in that transaction; the owner then commits, so the change and its events are stored together
or not at all.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from uuid import UUID

from bookshelf_messaging.unit_of_work import Recorder
from bookshelf_messaging.unit_of_work import UnitOfWork as SharedUnitOfWork

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


class UnitOfWork(SharedUnitOfWork):
    """The repositories of one transaction; the shared base hands the events of every shipment seen
    (and the announced ones, such as ShipmentFailed or a repeated ShipmentCreated) to the outbox."""

    shipments: ShipmentRepository
    refusals: RefusalRepository

    def seen(self) -> Iterable[Recorder]:
        """The shipments handed out or stored in this transaction."""
        return self.shipments.seen
