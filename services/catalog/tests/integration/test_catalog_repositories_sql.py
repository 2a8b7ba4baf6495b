"""The repository contract (tests/repository_contract.py) against the SQL adapters on real PostgreSQL."""

from __future__ import annotations

import pytest
from bookshelf_catalog.adapters.repository import SqlBookRepository
from bookshelf_catalog.adapters.supplier_payloads import SqlSupplierPayloadRepository
from bookshelf_infra.testing.service import in_transactions
from bookshelf_messaging import create_session_factory

from ..repository_contract import CatalogRepositoriesContract, Store
from .conftest import Catalog


class TestSqlRepositories(CatalogRepositoriesContract):
    @pytest.fixture
    def store(self, catalog: Catalog) -> Store:
        return in_transactions(
            create_session_factory(catalog.engine),
            lambda session: (SqlBookRepository(session), SqlSupplierPayloadRepository(session)),
        )
