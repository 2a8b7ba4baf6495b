"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from bookshelf_messaging import create_session_factory
from bookshelf_shipping.adapters.repository import SqlRefusalRepository, SqlShipmentRepository

from ..repository_contract import Repositories, ShippingRepositoriesContract, Store
from .conftest import ShippingIT


class TestSqlRepositories(ShippingRepositoriesContract):
    @pytest.fixture
    def store(self, shipping_it: ShippingIT) -> Store:
        sessions = create_session_factory(shipping_it.engine)

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Repositories]:
            async with sessions() as session, session.begin():
                yield SqlShipmentRepository(session), SqlRefusalRepository(session)

        return transaction
