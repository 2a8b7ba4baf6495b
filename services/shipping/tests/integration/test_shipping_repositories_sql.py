"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

import pytest
from bookshelf_infra.testing.service import in_transactions
from bookshelf_messaging import create_session_factory
from bookshelf_shipping.adapters.repository import SqlRefusalRepository, SqlShipmentRepository

from ..repository_contract import ShippingRepositoriesContract, Store
from .conftest import ShippingIT


class TestSqlRepositories(ShippingRepositoriesContract):
    @pytest.fixture
    def store(self, shipping_it: ShippingIT) -> Store:
        return in_transactions(
            create_session_factory(shipping_it.engine),
            lambda session: (SqlShipmentRepository(session), SqlRefusalRepository(session)),
        )
