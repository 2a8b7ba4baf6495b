"""The SQL unit of work: the repositories on one session, events flushed to the service's outbox.

An HTTP request opens its own transaction (``transaction``); a consumer handler runs in the
runner's (the one that also writes the inbox) and the runner commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bookshelf_messaging import Outbox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_inventory.adapters.repositories import (
    SqlBookReplica,
    SqlReservationRepository,
    SqlStockRepository,
)
from bookshelf_inventory.service_layer.unit_of_work import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """Repositories on one AsyncSession whose transaction the caller controls."""

    def __init__(self, session: AsyncSession, outbox: Outbox) -> None:
        self.session = session
        self.outbox = outbox
        self.stock = SqlStockRepository(session)
        self.reservations = SqlReservationRepository(session)
        self.books = SqlBookReplica(session)

    async def flush_events(self) -> None:
        """Insert one outbox row per collected event (one statement)."""
        events = self.collect_events()
        if events:
            await self.outbox.add_many(self.session, events)


@asynccontextmanager
async def transaction(
    session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work in a new transaction: events are flushed and the transaction committed on exit.

    An exception rolls everything back, events included.
    """
    async with session_factory() as session, session.begin():
        uow = SqlUnitOfWork(session, outbox)
        yield uow
        await uow.flush_events()
