"""The ``bookshelf`` pytest plugin: infrastructure fixtures and tier markers for every package.

Fixtures (infrastructure starts on first request, so ``pytest -m unit`` starts nothing):

- ``kafka_bootstrap`` (session) -> ``str``: bootstrap servers of a Kafka-protocol broker.
- ``own_kafka_bootstrap`` (module) -> ``str``: a broker of the module's own, for tests that publish
  volumes (tens of thousands of records) that would otherwise sit on the shared topics in front of
  every later test's consumers. With ``KAFKA_BOOTSTRAP_SERVERS`` set it is that (shared) broker.
- ``postgres_server`` (session) -> :class:`~bookshelf_infra.pgadmin.PostgresAdmin`: ``dsn(db)``,
  ``sqlalchemy_url(db)``, ``create_database(name)``, ``drop_database(name)``.
- ``database`` (function) -> :class:`~bookshelf_infra.testing.TestDatabase`: a fresh, uniquely named
  database (``name``, asyncpg ``dsn``, SQLAlchemy asyncpg ``url``), dropped after the test.

Where they come from: ``KAFKA_BOOTSTRAP_SERVERS`` / ``TEST_POSTGRES_URL`` if set, else testcontainers
when Docker answers, else embedded servers on free ports (see ``bookshelf_infra._providers``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from . import _providers
from .testing import TestDatabase, unique_name

if TYPE_CHECKING:
    from .pgadmin import PostgresAdmin

_TIERS = {
    "unit": "no I/O (set automatically for tests under tests/unit)",
    "integration": "real PostgreSQL and Kafka-protocol broker (tests/integration)",
    "e2e": "every service over HTTP and Kafka (tests/e2e)",
}


def pytest_configure(config: pytest.Config) -> None:
    """Declare the tier markers, so packages tested outside the root project still know them.

    Tests run in dev mode, explicitly: ``BOOKSHELF_ENV`` defaults to prod, which refuses the dev
    secrets the tests use (a test of prod mode sets ``BOOKSHELF_ENV=prod`` itself).
    """
    os.environ.setdefault("BOOKSHELF_ENV", "dev")
    for name, description in _TIERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier from its folder: tests/unit, tests/integration or tests/e2e."""
    for item in items:
        path = item.path.as_posix()
        for tier in _TIERS:
            if f"/tests/{tier}/" in path:
                item.add_marker(tier)


def pytest_report_header(config: pytest.Config) -> str:
    """Say where Kafka and PostgreSQL will come from (nothing is started until a test needs it)."""
    return "bookshelf infra: " + _providers.describe()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers (``host:port``) of a Kafka-protocol broker shared by the whole session."""
    with _providers.provide_kafka(_providers.kafka_mode()) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
def own_kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a broker started for this test module alone (see the module docstring)."""
    with _providers.provide_kafka(_providers.kafka_mode()) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresAdmin]:
    """A PostgreSQL server shared by the whole session; create a database per test (``database``)."""
    with _providers.provide_postgres(_providers.postgres_mode()) as server:
        yield server


@pytest.fixture
def database(postgres_server: PostgresAdmin, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """A new database named after the test (plus a unique suffix), dropped when the test ends."""
    prefix = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:36]
    name = unique_name(prefix)
    postgres_server.create_database(name)
    yield TestDatabase(name=name, dsn=postgres_server.dsn(name), url=postgres_server.sqlalchemy_url(name))
    postgres_server.drop_database(name)
