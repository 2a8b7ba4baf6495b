"""Shipping's SQL unit of work: the shared ``SqlUnitOfWork`` with shipments and refusals on its session."""

from __future__ import annotations

from bookshelf_messaging import Outbox
from bookshelf_messaging.unit_of_work import SqlUnitOfWork as SharedSqlUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_shipping.adapters.repository import SqlRefusalRepository, SqlShipmentRepository
from bookshelf_shipping.service_layer.unit_of_work import UnitOfWork


class SqlUnitOfWork(SharedSqlUnitOfWork, UnitOfWork):
    """Joins a session's transaction (``SqlUnitOfWork.join``); events go to the outbox in it."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        super().__init__(session, outbox, owns_transaction=owns_transaction)
        self.shipments = SqlShipmentRepository(session)
        self.refusals = SqlRefusalRepository(session)


# An HTTP request's unit of work: a new transaction, committed when the block ends without an error.
transaction = SqlUnitOfWork.in_transaction
