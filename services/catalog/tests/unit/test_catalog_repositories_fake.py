"""The repository contract (tests/repository_contract.py) against the in-memory fakes of tests/fakes.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ..fakes import FakeBookRepository, FakeSupplierPayloads
from ..repository_contract import CatalogRepositoriesContract, Repositories, Store


class TestInMemoryRepositories(CatalogRepositoriesContract):
    @pytest.fixture
    def store(self) -> Store:
        books, payloads = FakeBookRepository(), FakeSupplierPayloads()

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            books.seen = []  # a repository per transaction remembers that transaction's books only
            yield books, payloads

        return transaction
