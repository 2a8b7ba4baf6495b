"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bookshelf_infra.testing.service import in_transactions
from bookshelf_inventory.adapters.repositories import (
    SqlBookReplica,
    SqlReservationRepository,
    SqlStockRepository,
)
from bookshelf_messaging import create_engine, create_session_factory

from ..repository_contract import InventoryRepositoriesContract, Repositories, Store


class TestSqlRepositories(InventoryRepositoriesContract):
    @pytest.fixture
    async def store(self, inventory_db_url: str) -> AsyncIterator[Store]:
        engine = create_engine(inventory_db_url, pool_size=2)
        yield in_transactions(
            create_session_factory(engine),
            lambda s: Repositories(SqlStockRepository(s), SqlReservationRepository(s), SqlBookReplica(s)),
        )
        await engine.dispose()
