"""The unit of work on SQLAlchemy (asyncpg) with the transactional outbox."""

from __future__ import annotations

from uuid import UUID

from bookshelf_contracts import Message
from bookshelf_messaging.outbox import Outbox
from bookshelf_servicekit.idempotency import SqlIdempotencyRepository
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_catalog.adapters.repository import SqlBookRepository
from bookshelf_catalog.adapters.supplier_payloads import SqlSupplierPayloadRepository
from bookshelf_catalog.service_layer.unit_of_work import Lane, UnitOfWork

# Up to this many events are written one by one (keeps per-book order trivially); more go in bulk
# statements of OUTBOX_BATCH rows each.
_ONE_BY_ONE = 4
OUTBOX_BATCH = 5_000


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Opens its own session and transaction, or joins ``session`` (owned by the consumer runner)."""

    session: AsyncSession

    def __init__(
        self,
        outbox: Outbox,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> None:
        if (session_factory is None) == (session is None):
            raise ValueError("give either session_factory (own transaction) or session (join one)")
        self.outbox = outbox
        self._factory = session_factory
        self._joined = session
        if session is not None:
            self._bind(session)

    def _bind(self, session: AsyncSession) -> None:
        self.session = session
        self.books = SqlBookRepository(session)
        self.supplier_payloads = SqlSupplierPayloadRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)

    async def __aenter__(self) -> SqlAlchemyUnitOfWork:
        if self._factory is not None:
            session = self._factory()
            await session.begin()
            self._bind(session)
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await super().__aexit__(*exc_info)  # type: ignore[arg-type]
        finally:
            if self._factory is not None:
                await self.session.close()

    async def publish(self, message: Message) -> UUID:
        """Write one message to the outbox now; returns its message id."""
        envelope = await self.outbox.add(self.session, message)
        return envelope.message_id

    async def _publish_events(self, events: list[Message], lane: Lane) -> None:
        if len(events) <= _ONE_BY_ONE:
            for event in events:
                await self.outbox.add(self.session, event, lane=lane)
            return
        for start in range(0, len(events), OUTBOX_BATCH):
            await self.outbox.add_many(self.session, events[start : start + OUTBOX_BATCH], lane=lane)

    async def _commit(self) -> None:
        if self._joined is None:
            await self.session.commit()
        else:
            await self.session.flush()

    async def rollback(self) -> None:
        """Roll back an own transaction; a joined one is rolled back by its owner when we raise."""
        if self._joined is None:
            await self.session.rollback()
