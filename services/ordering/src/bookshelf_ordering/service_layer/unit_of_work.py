"""The unit of work: one transaction, its repositories, and the hand-over of events to the outbox.

Handlers call ``await uow.commit()`` when their change is complete. ``commit`` writes every event the
touched aggregates recorded into the outbox through the same session, then commits, so the change and
its events exist together or not at all. A consumer handler runs inside the runner's transaction
(which also inserts the inbox row): there the unit of work does not own the transaction and
``commit`` only hands the events over; the runner commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from bookshelf_contracts import Money
from bookshelf_messaging import Outbox
from bookshelf_servicekit.idempotency import IdempotencyRepository, SqlIdempotencyRepository
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_ordering.adapters.repository import SqlCatalogReplica, SqlOrderRepository
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


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class SqlUnitOfWork:
    """``UnitOfWork`` on one SQLAlchemy session and the service's outbox."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        self.session = session
        self.outbox = outbox
        self.owns_transaction = owns_transaction
        self.orders = SqlOrderRepository(session)
        self.books = SqlCatalogReplica(session)
        self.idempotency = SqlIdempotencyRepository(session)

    def now(self) -> datetime:
        """The time transitions are stamped with."""
        return utcnow()

    async def commit(self) -> None:
        """Hand recorded events to the outbox (keyed by order_id), then commit if we own the transaction."""
        events: list[Any] = []
        keys: list[str | None] = []
        for order in self.orders.seen:
            for event in order.pull_events():
                events.append(event)
                keys.append(str(order.order_id))
        if len(events) == 1:
            await self.outbox.add(self.session, events[0], key=keys[0])
        elif events:
            await self.outbox.add_many(self.session, events, keys=keys)
        if self.owns_transaction:
            await self.session.commit()


@asynccontextmanager
async def sql_unit_of_work(
    session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work that owns its transaction; leaving without ``commit`` rolls back."""
    async with session_factory() as session:
        yield SqlUnitOfWork(session, outbox, owns_transaction=True)
