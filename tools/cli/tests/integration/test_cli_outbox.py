"""`bookshelf outbox parked|retry|drop` against a real catalog outbox in PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson
import pytest
from bookshelf_cli.main import app
from bookshelf_infra.testing import TestDatabase
from bookshelf_messaging import create_engine, install
from typer.testing import CliRunner


async def _outbox_with_two_parked_rows(database: TestDatabase) -> list[int]:
    engine = create_engine(database.url)
    try:
        await install(engine)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(database.dsn)
    try:
        rows = await conn.fetch(
            "INSERT INTO outbox (topic, key, value, headers, parked_at, parked_error) "
            "SELECT 'catalog.books', 'k', repeat('x', 10)::bytea, '[]', now(), 'Broker: Message size too large' "
            "FROM generate_series(1, 2) RETURNING id"
        )
        return sorted(row["id"] for row in rows)
    finally:
        await conn.close()


async def _parked_ids(database: TestDatabase) -> list[int]:
    conn = await asyncpg.connect(database.dsn)
    try:
        rows = await conn.fetch("SELECT id FROM outbox WHERE parked_at IS NOT NULL ORDER BY id")
        return [row["id"] for row in rows]
    finally:
        await conn.close()


def test_parked_rows_are_listed_retried_and_dropped(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_DATABASE_URL", database.url)
    first, second = asyncio.run(_outbox_with_two_parked_rows(database))
    runner = CliRunner()

    listed = runner.invoke(app, ["outbox", "parked", "--service", "catalog", "--json"])
    assert listed.exit_code == 0, listed.output
    document = orjson.loads(listed.stdout)
    assert [(e["service"], e["id"], e["size"]) for e in document["parked"]] == [
        ("catalog", first, 10),
        ("catalog", second, 10),
    ]
    assert document["parked"][0]["error"] == "Broker: Message size too large"

    assert runner.invoke(app, ["outbox", "retry", "catalog", "--yes"]).exit_code == 2  # ids or --all
    retried = runner.invoke(app, ["outbox", "retry", "catalog", str(first), "--yes"])
    assert retried.exit_code == 0, retried.output
    assert "1 row handed back" in retried.stdout
    assert asyncio.run(_parked_ids(database)) == [second]

    dropped = runner.invoke(app, ["outbox", "drop", "catalog", "--all", "--yes"])
    assert dropped.exit_code == 0, dropped.output
    assert asyncio.run(_parked_ids(database)) == []
    empty = runner.invoke(app, ["outbox", "parked", "--service", "catalog"])
    assert "No parked outbox rows." in empty.stdout
