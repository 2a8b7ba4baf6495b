"""Repositories, queries and the migration on real PostgreSQL (no broker)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from bookshelf_contracts import ShortLine
from bookshelf_infra.testing import TestDatabase
from bookshelf_inventory import migrations
from bookshelf_inventory.adapters import queries
from bookshelf_inventory.adapters.repositories import SqlBookReplica, SqlReservationRepository
from bookshelf_inventory.domain.reservation import Reservation, ReservationStatus
from bookshelf_messaging import create_engine, create_session_factory
from bookshelf_servicekit.migrations import downgrade_base
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def repo_sessions(inventory_db_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(inventory_db_url, pool_size=2)
    yield create_session_factory(engine)
    await engine.dispose()


async def test_catalog_replica_keeps_the_newest_version(repo_sessions: Sessions) -> None:
    book_id = uuid.uuid4()
    async with repo_sessions() as session, session.begin():
        books = SqlBookReplica(session)
        await books.upsert(book_id, "Newer", "9780306406157", 3)
        await books.upsert(book_id, "Older", None, 2)  # arrived late: ignored
        assert await books.book_id_for_isbn("9780306406157") == book_id
        assert await books.book_id_for_isbn("9791234567896") is None
        title = await session.scalar(
            sa.text("SELECT title FROM catalog_books WHERE book_id = :b"), {"b": book_id}
        )
    assert title == "Newer"


async def test_a_refused_reservation_round_trips_its_short_lines(repo_sessions: Sessions) -> None:
    order_id, book_id = uuid.uuid4(), uuid.uuid4()
    short = [ShortLine(book_id=book_id, requested=3, available=1)]
    async with repo_sessions() as session, session.begin():
        repository = SqlReservationRepository(session)
        assert await repository.add(Reservation(order_id, ReservationStatus.FAILED, short_lines=short))
        assert not await repository.add(Reservation(order_id, ReservationStatus.RESERVED, {book_id: 1}))
        stored = await repository.lock(order_id)
    assert stored is not None
    assert (stored.status, stored.lines, stored.short_lines) == (ReservationStatus.FAILED, {}, short)
    async with repo_sessions() as session:
        row = await queries.reservation_of(session, order_id)
    assert row is not None
    assert row["short_lines"] == [{"book_id": str(book_id), "requested": 3, "available": 1}]


async def test_migration_upgrades_twice_and_downgrades(database: TestDatabase) -> None:
    await asyncio.to_thread(migrations.upgrade, database.url)
    await asyncio.to_thread(migrations.upgrade, database.url)  # already at head: nothing to do
    await asyncio.to_thread(downgrade_base, migrations.ALEMBIC_DIR, database.url)
    engine = create_engine(database.url, pool_size=1)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT to_regclass('stock')")) is None
            assert await conn.scalar(sa.text("SELECT to_regclass('outbox')")) is None
    finally:
        await engine.dispose()


async def test_the_migration_creates_exactly_the_tables_of_the_code(inventory_db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from bookshelf_inventory.adapters.orm import metadata

    def diff(connection: sa.Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        changes = compare_metadata(context, metadata)
        # Tables owned by the libraries (outbox, inbox, idempotency keys) are not in this metadata.
        library = {"outbox", "inbox", "idempotency_keys"}
        return [c for c in changes if not (isinstance(c, tuple) and _table_of(c[1]) in library)]

    engine = create_engine(inventory_db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def _table_of(item: object) -> str | None:
    table = item if isinstance(item, sa.Table) else getattr(item, "table", None)
    return getattr(table, "name", None)
