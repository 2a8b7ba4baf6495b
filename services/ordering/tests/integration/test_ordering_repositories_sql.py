"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

import pytest
from bookshelf_infra.testing.service import in_transactions
from bookshelf_messaging import create_session_factory
from bookshelf_ordering.adapters.repository import SqlCatalogReplica, SqlOrderRepository

from ..repository_contract import OrderingRepositoriesContract, Repositories, Store
from .conftest import OrderingHarness


class TestSqlRepositories(OrderingRepositoriesContract):
    @pytest.fixture
    def store(self, ordering: OrderingHarness) -> Store:
        return in_transactions(
            create_session_factory(ordering.engine),
            lambda session: Repositories(SqlOrderRepository(session), SqlCatalogReplica(session)),
        )
