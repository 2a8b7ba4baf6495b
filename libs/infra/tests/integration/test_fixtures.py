"""The plugin's fixtures: a broker, a PostgreSQL server and a fresh database per test."""

from __future__ import annotations

import asyncpg
import pytest
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import TestDatabase
from confluent_kafka.admin import AdminClient

_CREATED: list[str] = []  # databases of earlier tests in this module, checked by the last test


def test_kafka_bootstrap_answers_metadata(kafka_bootstrap: str) -> None:
    metadata = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=5)
    assert metadata.brokers


async def test_database_is_fresh_and_usable(database: TestDatabase, postgres_server: PostgresAdmin) -> None:
    assert database.url == postgres_server.sqlalchemy_url(database.name)
    assert database.url.startswith("postgresql+asyncpg://")
    _CREATED.append(database.name)
    conn = await asyncpg.connect(database.dsn)
    try:
        assert await conn.fetchval("SELECT current_database()") == database.name
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        await conn.execute("CREATE TABLE books (id int PRIMARY KEY)")
    finally:
        await conn.close()


def test_each_test_gets_its_own_database(database: TestDatabase, request: pytest.FixtureRequest) -> None:
    assert database.name.startswith("t_test_each_test_gets_its_own_database_")
    assert request.node.get_closest_marker("integration") is not None


async def test_database_fixture_drops_its_database(postgres_server: PostgresAdmin) -> None:
    for name in _CREATED:
        assert not await postgres_server.database_exists_async(name), name
