"""Ordering's SQL unit of work: the shared ``SqlUnitOfWork`` with the orders, the catalog replica and
the Idempotency-Key store on its session.

``SqlUnitOfWork.begin(session_factory, outbox)`` owns its transaction (HTTP requests);
``SqlUnitOfWork.join(session, outbox)`` runs in the consumer runner's. Either way ``commit()`` hands
the events of every order seen to the outbox (keyed by order_id, the topic's key).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bookshelf_messaging import Outbox
from bookshelf_messaging.unit_of_work import Recorder
from bookshelf_messaging.unit_of_work import SqlUnitOfWork as SharedSqlUnitOfWork
from bookshelf_servicekit.idempotency import SqlIdempotencyRepository
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_ordering.adapters.repository import SqlCatalogReplica, SqlOrderRepository


class SqlUnitOfWork(SharedSqlUnitOfWork):
    """``service_layer.unit_of_work.UnitOfWork`` on SQL."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        super().__init__(session, outbox, owns_transaction=owns_transaction)
        self.orders = SqlOrderRepository(session)
        self.books = SqlCatalogReplica(session)
        self.idempotency = SqlIdempotencyRepository(session)

    def seen(self) -> Iterable[Recorder]:
        """The orders read or added in this transaction."""
        return self.orders.seen

    def now(self) -> datetime:
        """The time transitions are stamped with."""
        return datetime.now(UTC)
