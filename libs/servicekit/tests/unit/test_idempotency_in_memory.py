"""The idempotency contract (tests/idempotency_contract.py) against ``InMemoryIdempotencyRepository``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from bookshelf_servicekit.idempotency import IdempotencyRepository
from bookshelf_servicekit.testing import InMemoryIdempotencyRepository

from ..idempotency_contract import IdempotencyRepositoryContract, Store


class TestInMemoryIdempotencyRepository(IdempotencyRepositoryContract):
    @pytest.fixture
    def store(self) -> Store:
        keys = InMemoryIdempotencyRepository()

        @asynccontextmanager
        async def transaction() -> AsyncIterator[IdempotencyRepository]:
            yield keys

        return transaction
