"""Inventory's SQL unit of work: the shared ``SqlUnitOfWork`` with stock, reservations and the book
replica on its session. It joins a transaction its caller owns: an HTTP request's (``transaction``)
or the consumer runner's (the one that also writes the inbox).
"""

from __future__ import annotations

from bookshelf_messaging import Outbox
from bookshelf_messaging.unit_of_work import SqlUnitOfWork as SharedSqlUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession

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


# An HTTP request's unit of work: a new transaction, events written and committed on exit.
transaction = SqlUnitOfWork.in_transaction
