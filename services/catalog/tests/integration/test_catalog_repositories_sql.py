"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from bookshelf_catalog.adapters.repository import SqlBookRepository
from bookshelf_catalog.adapters.supplier_payloads import SqlSupplierPayloadRepository
from bookshelf_messaging import create_session_factory

from ..repository_contract import CatalogRepositoriesContract, Repositories, Store
from .conftest import Catalog


class TestSqlRepositories(CatalogRepositoriesContract):
    @pytest.fixture
    def store(self, catalog: Catalog) -> Store:
        sessions = create_session_factory(catalog.engine)

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            async with sessions() as session, session.begin():
                yield SqlBookRepository(session), SqlSupplierPayloadRepository(session)

        return transaction
