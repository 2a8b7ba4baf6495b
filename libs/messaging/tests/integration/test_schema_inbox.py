"""Schema helpers and inbox retention against real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from bookshelf_infra.testing import TestDatabase
from bookshelf_messaging import create_engine, create_messaging_schema, drop_messaging_schema, install
from bookshelf_messaging.inbox import purge_inbox
from sqlalchemy.ext.asyncio import AsyncEngine


class RecordingOp:
    """Stands in for ``alembic.op``: collects what a migration would execute."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    def execute(self, sqltext: Any) -> None:
        self.statements.append(sqltext)


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return {r[0] for r in rows}


async def test_alembic_helpers_create_and_drop_the_schema(database: TestDatabase) -> None:
    engine = create_engine(database.url)
    try:
        for helper, expected in (
            (create_messaging_schema, {"outbox", "inbox"}),
            (drop_messaging_schema, set()),
        ):
            op = RecordingOp()
            helper(op)
            async with engine.begin() as conn:
                for statement in op.statements:
                    await conn.execute(statement)
            assert await _tables(engine) == expected
        await install(engine)
        await install(engine)  # idempotent
        assert await _tables(engine) == {"outbox", "inbox"}
    finally:
        await engine.dispose()


async def test_purge_inbox_deletes_only_old_rows_of_the_group(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for group, age_days, count in (("g1", 10, 25), ("g1", 0, 5), ("g2", 10, 7)):
            await conn.execute(
                sa.text(
                    "INSERT INTO inbox (consumer_group, message_id, processed_at) "
                    "SELECT :g, gen_random_uuid(), now() - make_interval(days => :d) FROM generate_series(1, :n)"
                ),
                {"g": group, "d": age_days, "n": count},
            )
    async with engine.begin() as conn:
        assert await purge_inbox(conn, "g1", older_than=timedelta(days=7), chunk=10) == 25
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT consumer_group, count(*) FROM inbox GROUP BY 1"))).all()
    assert dict(rows) == {"g1": 5, "g2": 7}
