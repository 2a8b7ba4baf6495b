"""The repository contract (tests/repository_contract.py) against the in-memory fakes of tests/fakes.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ..fakes import FakeBookReplica, FakeReservationRepository, FakeStockRepository
from ..repository_contract import InventoryRepositoriesContract, Repositories, Store


class TestInMemoryRepositories(InventoryRepositoriesContract):
    @pytest.fixture
    def store(self) -> Store:
        repos = Repositories(FakeStockRepository(), FakeReservationRepository(), FakeBookReplica())

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            repos.stock.seen.clear()  # a repository per transaction remembers that transaction's only
            repos.reservations.seen.clear()
            yield repos

        return transaction
