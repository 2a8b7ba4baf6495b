"""Inventory's SQL unit of work: the shared ``SqlUnitOfWork`` with stock, reservations and the book
replica on its session. It joins a transaction its caller owns: an HTTP request's (``transaction``)
or the consumer runner's (the one that also writes the inbox).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bookshelf_messaging import Outbox
from bookshelf_messaging.unit_of_work import SqlUnitOfWork as SharedSqlUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_inventory.adapters.repositories import (
    SqlBookReplica,
    SqlReservationRepository,
    SqlStockRepository,
)
from bookshelf_inventory.service_layer.unit_of_work import UnitOfWork


class SqlUnitOfWork(SharedSqlUnitOfWork, UnitOfWork):
    """Repositories on one AsyncSession whose transaction the caller controls."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        super().__init__(session, outbox, owns_transaction=owns_transaction)
        self.stock = SqlStockRepository(session)
        self.reservations = SqlReservationRepository(session)
        self.books = SqlBookReplica(session)


@asynccontextmanager
async def transaction(
    session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work in a new transaction: events are written and the transaction committed on exit.

    An exception rolls everything back, events included.
    """
    async with session_factory() as session, session.begin():
        uow = SqlUnitOfWork.join(session, outbox)
        yield uow
        await uow.commit()
