"""The repository contract (tests/repository_contract.py) against the in-memory fakes of tests/fakes.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ..fakes import FakeOrders, FakeReplica
from ..repository_contract import OrderingRepositoriesContract, Repositories, Store


class TestInMemoryRepositories(OrderingRepositoriesContract):
    @pytest.fixture
    def store(self) -> Store:
        repos = Repositories(FakeOrders(), FakeReplica())

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            yield repos

        return transaction
