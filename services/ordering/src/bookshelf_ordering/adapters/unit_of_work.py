"""The SQL unit of work: ``UnitOfWork`` on one SQLAlchemy session and the service's outbox.

``commit`` writes every event the touched aggregates recorded into the outbox through the same
session, then commits when the unit owns the transaction; inside a consumer (the runner's
transaction, which also inserts the inbox row) it only hands the events over and the runner commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from bookshelf_messaging import Outbox
from bookshelf_servicekit.idempotency import SqlIdempotencyRepository
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_ordering.adapters.repository import SqlCatalogReplica, SqlOrderRepository


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
