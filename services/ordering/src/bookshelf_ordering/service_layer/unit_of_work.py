"""The ports of ordering's handlers: repositories and the unit of work (``adapters.unit_of_work`` is
the SQL one, built on the shared ``bookshelf_messaging.unit_of_work``).

Handlers call ``await uow.commit()`` when their change is complete. ``commit`` writes every event the
touched aggregates recorded into the outbox through the same session, then commits, so the change and
its events exist together or not at all. A consumer handler runs inside the runner's transaction
(which also inserts the inbox row): there the unit of work does not own the transaction and
``commit`` only hands the events over; the runner commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from bookshelf_contracts import Money
from bookshelf_servicekit.idempotency import IdempotencyRepository

from bookshelf_ordering.domain.model import Order
from bookshelf_ordering.domain.placement import CatalogEntry, ReplicaUpdate


class OrderRepository(Protocol):
    """Where orders live."""

    async def add(self, order: Order, *, access_token_hash: str | None = None) -> None:
        """Store a new order (with the hash of its access token)."""
        ...

    async def get_for_update(self, order_id: UUID) -> Order | None:
        """The order, locked until the transaction ends, or None."""
        ...

    async def save(self, order: Order) -> None:
        """Write back a transition."""
        ...


class CatalogReplica(Protocol):
    """Ordering's copy of catalog titles and prices."""

    async def get_many(self, book_ids: Iterable[UUID]) -> dict[UUID, CatalogEntry]:
        """The orderable books among ``book_ids``."""
        ...

    async def apply_book(self, book_id: UUID, title: str, price: Money, version: int) -> None:
        """A book's full state at ``version``."""
        ...

    async def apply_price(self, book_id: UUID, price: Money, version: int) -> None:
        """A book's price at ``version``."""
        ...

    async def apply_many(self, updates: Sequence[ReplicaUpdate]) -> None:
        """Several updates at once (each part of a row only moves forward by version)."""
        ...


class UnitOfWork(Protocol):
    """What handlers get: repositories, the idempotency store, a clock and ``commit``."""

    @property
    def orders(self) -> OrderRepository:
        """The orders of this transaction."""
        ...

    @property
    def books(self) -> CatalogReplica:
        """The catalog replica."""
        ...

    @property
    def idempotency(self) -> IdempotencyRepository:
        """The Idempotency-Key store, in the same transaction."""
        ...

    def now(self) -> datetime:
        """The time transitions are stamped with."""
        ...

    async def commit(self) -> None:
        """Hand recorded events to the outbox and commit (if the unit owns its transaction)."""
        ...
