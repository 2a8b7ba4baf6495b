"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from bookshelf_messaging import create_session_factory
from bookshelf_ordering.adapters.repository import SqlCatalogReplica, SqlOrderRepository

from ..repository_contract import OrderingRepositoriesContract, Repositories, Store
from .conftest import OrderingHarness


class TestSqlRepositories(OrderingRepositoriesContract):
    @pytest.fixture
    def store(self, ordering: OrderingHarness) -> Store:
        sessions = create_session_factory(ordering.engine)

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            async with sessions() as session, session.begin():
                yield Repositories(SqlOrderRepository(session), SqlCatalogReplica(session))

        return transaction
