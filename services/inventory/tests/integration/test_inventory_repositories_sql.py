"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
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
        sessions = create_session_factory(engine)

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            async with sessions() as session, session.begin():
                yield Repositories(
                    SqlStockRepository(session), SqlReservationRepository(session), SqlBookReplica(session)
                )

        yield transaction
        await engine.dispose()
