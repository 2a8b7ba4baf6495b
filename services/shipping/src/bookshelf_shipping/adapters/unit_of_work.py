"""Shipping's SQL unit of work: the shared ``SqlUnitOfWork`` with shipments and refusals on its session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bookshelf_messaging import Outbox
from bookshelf_messaging.unit_of_work import SqlUnitOfWork as SharedSqlUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_shipping.adapters.repository import SqlRefusalRepository, SqlShipmentRepository
from bookshelf_shipping.service_layer.unit_of_work import UnitOfWork


class SqlUnitOfWork(SharedSqlUnitOfWork, UnitOfWork):
    """Joins a session's transaction (``SqlUnitOfWork.join``); events go to the outbox in it."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        super().__init__(session, outbox, owns_transaction=owns_transaction)
        self.shipments = SqlShipmentRepository(session)
        self.refusals = SqlRefusalRepository(session)


@asynccontextmanager
async def transaction(
    session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work in a new transaction, committed when the block ends without an error."""
    async with session_factory() as session, session.begin():
        yield SqlUnitOfWork.join(session, outbox)
