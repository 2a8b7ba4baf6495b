"""The repository contract (tests/repository_contract.py) against the in-memory fakes of tests/fakes.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import pytest
from bookshelf_shipping.domain.model import Refusal, Shipment

from ..fakes import InMemoryRefusalRepository, InMemoryShipmentRepository
from ..repository_contract import Repositories, ShippingRepositoriesContract, Store


class TestInMemoryRepositories(ShippingRepositoriesContract):
    @pytest.fixture
    def store(self) -> Store:
        shipments: dict[UUID, Shipment] = {}
        refusals: dict[UUID, Refusal] = {}

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            yield InMemoryShipmentRepository(shipments), InMemoryRefusalRepository(refusals)

        return transaction
