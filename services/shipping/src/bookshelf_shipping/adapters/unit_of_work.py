"""The unit of work on SQLAlchemy (asyncpg) with the transactional outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bookshelf_contracts import Event
from bookshelf_messaging import Outbox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_shipping.adapters.repository import SqlRefusalRepository, SqlShipmentRepository
from bookshelf_shipping.service_layer.unit_of_work import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """Joins ``session``'s transaction; events go to the outbox in it (keyed by order_id)."""

    def __init__(self, session: AsyncSession, outbox: Outbox) -> None:
        super().__init__()
        self.session = session
        self.outbox = outbox
        self.shipments = SqlShipmentRepository(session)
        self.refusals = SqlRefusalRepository(session)

    async def _publish(self, event: Event) -> None:
        await self.outbox.add(self.session, event)


@asynccontextmanager
async def transaction(
    session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work in a new transaction, committed when the block ends without an error."""
    async with session_factory() as session, session.begin():
        yield SqlUnitOfWork(session, outbox)
