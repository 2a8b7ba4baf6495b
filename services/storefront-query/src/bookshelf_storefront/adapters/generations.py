"""Generations of a read model's tables: create the next one, switch the views to it, drop the old one.

The views (``storefront_view`` ...) are what the API reads and the live consumers write through. A
switch replaces every view of one read model and bumps ``read_model_generations`` in ONE
transaction, so a reader sees either the old generation or the new one, never a mix, and never a
table that is still being filled.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bookshelf_storefront.adapters.tables import GENERATIONS_TABLE, parse_physical, physical
from bookshelf_storefront.domain.read_models import ReadModel

LOCK_TIMEOUT = "2s"  # a switch waits this long for in-flight transactions on the views, then retries
SWITCH_ATTEMPTS = 10


class RebuildBusy(RuntimeError):
    """Another rebuild of the same read model holds its lock."""


async def current_generation(conn: AsyncConnection, model: ReadModel) -> int:
    """The generation the views of ``model`` show now (read from the view, the source of truth)."""
    query = sa.text("SELECT sf_view_generation(CAST(:view AS regclass))")
    generation = await conn.scalar(query, {"view": model.tables[0]})
    if generation is None:
        raise LookupError(f"view {model.tables[0]!r} does not show a generation table; run the migrations")
    return int(generation)


def _lock_key(model: ReadModel) -> dict[str, str]:
    return {"key": f"bookshelf.storefront.rebuild.{model.name}"}


async def lock_model(conn: AsyncConnection, model: ReadModel) -> None:
    """Take the session-level rebuild lock of ``model`` on ``conn`` (until ``unlock_model``)."""
    got = await conn.scalar(sa.text("SELECT pg_try_advisory_lock(hashtext(:key))"), _lock_key(model))
    await conn.commit()
    if not got:
        raise RebuildBusy(f"another rebuild of {model.name!r} is running; wait for it to finish")


async def unlock_model(conn: AsyncConnection, model: ReadModel) -> None:
    """Release the rebuild lock of ``model`` taken on ``conn``."""
    await conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"), _lock_key(model))
    await conn.commit()


async def leftover_tables(conn: AsyncConnection, model: ReadModel, keep: int) -> list[str]:
    """Tables of ``model`` from generations other than ``keep`` (crashed or unfinished rebuilds)."""
    names = await conn.scalars(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    leftovers = []
    for name in names:
        parsed = parse_physical(name)
        if parsed is not None and parsed[0] in model.tables and parsed[1] != keep:
            leftovers.append(name)
    return sorted(leftovers)


async def drop_tables(conn: AsyncConnection, tables: list[str]) -> None:
    """Drop the given generation tables (never a view, never the current generation)."""
    for table in tables:
        await conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


async def create_generation(conn: AsyncConnection, model: ReadModel, source: int, target: int) -> None:
    """Empty tables of generation ``target``, shaped like ``source`` (columns, defaults, indexes)."""
    for base in model.tables:
        await conn.execute(
            sa.text(f"CREATE TABLE {physical(base, target)} (LIKE {physical(base, source)} INCLUDING ALL)")
        )


async def analyze_generation(engine: AsyncEngine, model: ReadModel, generation: int) -> None:
    """VACUUM ANALYZE the new tables before they serve: planner statistics and index-only scans."""
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for base in model.tables:
            await auto.execute(sa.text(f"VACUUM (ANALYZE) {physical(base, generation)}"))


async def _switch_once(engine: AsyncEngine, model: ReadModel, generation: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        await conn.execute(
            sa.text(f"SELECT generation FROM {GENERATIONS_TABLE} WHERE name = :name FOR UPDATE"),
            {"name": model.name},
        )  # two switches of one read model serialize here (the rebuild lock already prevents it)
        for base in model.tables:
            await conn.execute(
                sa.text(f"CREATE OR REPLACE VIEW {base} AS SELECT * FROM {physical(base, generation)}")
            )
        await conn.execute(
            sa.text(
                f"INSERT INTO {GENERATIONS_TABLE} (name, generation) VALUES (:name, :generation) "
                "ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, switched_at = now()"
            ),
            {"name": model.name, "generation": generation},
        )


async def switch_to(engine: AsyncEngine, model: ReadModel, generation: int) -> None:
    """Point every view of ``model`` at ``generation`` in one transaction (retried on lock timeouts)."""
    for attempt in range(1, SWITCH_ATTEMPTS + 1):
        try:
            await _switch_once(engine, model, generation)
            return
        except DBAPIError as exc:
            if "lock timeout" not in str(exc) or attempt == SWITCH_ATTEMPTS:
                raise
            await asyncio.sleep(0.1 * attempt)
