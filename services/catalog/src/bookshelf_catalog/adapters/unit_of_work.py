"""Catalog's SQL unit of work: the shared ``SqlUnitOfWork`` with books, supplier payloads and the
Idempotency-Key store on its session (``begin`` for HTTP requests, ``join`` inside a consumer)."""

from __future__ import annotations

from bookshelf_messaging.outbox import Outbox
from bookshelf_messaging.unit_of_work import SqlUnitOfWork as SharedSqlUnitOfWork
from bookshelf_servicekit.idempotency import SqlIdempotencyRepository
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_catalog.adapters.repository import SqlBookRepository
from bookshelf_catalog.adapters.supplier_payloads import SqlSupplierPayloadRepository
from bookshelf_catalog.service_layer.unit_of_work import UnitOfWork


class SqlAlchemyUnitOfWork(SharedSqlUnitOfWork, UnitOfWork):
    """``UnitOfWork`` on one SQLAlchemy session and the service's outbox."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        super().__init__(session, outbox, owns_transaction=owns_transaction)
        self.books = SqlBookRepository(session)
        self.supplier_payloads = SqlSupplierPayloadRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)
