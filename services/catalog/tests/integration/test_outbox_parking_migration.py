"""A catalog database migrated before outbox parking existed gets the columns from revision 0002."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command
from bookshelf_catalog.bootstrap import ALEMBIC_DIR
from bookshelf_infra.testing import TestDatabase
from bookshelf_servicekit.migrations import alembic_config

COLUMNS_SQL = (
    "SELECT array_agg(column_name::text ORDER BY column_name) FROM information_schema.columns "
    "WHERE table_name = 'outbox' AND column_name LIKE 'parked%'"
)


async def test_revision_0002_adds_and_drops_the_parking_columns(database: TestDatabase) -> None:
    config = alembic_config(ALEMBIC_DIR, database.url)
    await asyncio.to_thread(command.upgrade, config, "0001_initial")
    conn = await asyncpg.connect(database.dsn)
    try:
        # As older code left it: an outbox without the columns.
        await conn.execute("ALTER TABLE outbox DROP COLUMN parked_at, DROP COLUMN parked_error")
        await asyncio.to_thread(command.upgrade, config, "head")
        assert await conn.fetchval(COLUMNS_SQL) == ["parked_at", "parked_error"]
        await asyncio.to_thread(command.downgrade, config, "0001_initial")
        assert await conn.fetchval(COLUMNS_SQL) is None
        await asyncio.to_thread(command.upgrade, config, "head")
        assert await conn.fetchval(COLUMNS_SQL) == ["parked_at", "parked_error"]
    finally:
        await conn.close()
