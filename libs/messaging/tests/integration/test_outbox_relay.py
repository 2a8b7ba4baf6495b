"""Outbox + relay against real PostgreSQL and the broker."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from uuid import uuid4

import asyncpg
import pytest
from bookshelf_contracts import Envelope
from bookshelf_infra.testing import TestDatabase, eventually
from bookshelf_messaging import KafkaSettings, Outbox, OutboxRelay, outbox_stats
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import TopicFactory, book, read_all, running


async def backlog(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return (await outbox_stats(conn))[0]
    finally:
        await conn.close()


async def drained(dsn: str) -> bool:
    return await backlog(dsn) == 0


async def test_notify_trigger_fires_once_per_insert_statement(
    database: TestDatabase, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    listener = await asyncpg.connect(database.dsn)
    seen: list[str] = []
    await listener.add_listener("outbox", lambda *args: seen.append(args[2]))
    try:
        async with session_factory() as session, session.begin():
            await Outbox("svc").add_many(session, [book() for _ in range(50)], topic="any")
        await eventually(lambda: seen == ["outbox"])
    finally:
        await listener.close()


async def test_rows_are_published_in_order_per_key(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_order")
    ids = [uuid4() for _ in range(5)]
    outbox = Outbox("svc")
    for round_ in range(1, 41):  # 40 transactions x 5 keys, mixing add and add_many
        async with session_factory() as session, session.begin():
            if round_ % 2:
                await outbox.add_many(session, [book(i, version=round_) for i in ids], topic=topic)
            else:
                for i in ids:
                    await outbox.add(session, book(i, version=round_), topic=topic)
    relay = OutboxRelay(database.url, service="svc", kafka=kafka, batch_size=64)
    async with running(relay):
        records = await read_all(kafka, topic, 200)
        await eventually(lambda: drained(database.dsn))
    versions: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        envelope = Envelope.from_json(record.value)
        assert record.key.decode() == envelope.data["book_id"]
        assert dict(record.headers)["message_id"] == str(envelope.message_id).encode()
        versions[record.key.decode()].append(envelope.data["version"])
    assert set(versions) == {str(i) for i in ids}
    assert all(v == list(range(1, 41)) for v in versions.values())


class SimulatedCrash(RuntimeError):
    pass


async def test_relay_killed_between_publish_and_mark_republishes(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_crash")
    async with session_factory() as session, session.begin():
        await Outbox("svc").add_many(session, [book() for _ in range(10)], topic=topic)

    def crash(ids: Sequence[int]) -> None:
        raise SimulatedCrash(f"killed after publishing {len(ids)} rows")

    crashing = OutboxRelay(database.url, service="svc", kafka=kafka, after_publish=crash)
    with pytest.raises(SimulatedCrash):
        await asyncio.wait_for(crashing.run(), 20)
    assert not crashing.is_active
    assert await backlog(database.dsn) == 10  # published, never marked
    await read_all(kafka, topic, 10)

    relay = OutboxRelay(database.url, service="svc", kafka=kafka)
    async with running(relay):
        records = await read_all(kafka, topic, 20)
        await eventually(lambda: drained(database.dsn))
    ids = [dict(r.headers)["message_id"] for r in records]
    assert len(ids) == 20
    assert len(set(ids)) == 10  # every event twice: consumers dedup (see test_consumer_runner)


async def test_standby_relay_takes_over_when_the_active_one_stops(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_standby")
    first = OutboxRelay(database.url, service="svc", kafka=kafka, lock_retry_s=0.2)
    second = OutboxRelay(database.url, service="svc", kafka=kafka, lock_retry_s=0.2)
    async with running(first), running(second):
        await eventually(lambda: first.is_active or second.is_active)
        active, standby = (first, second) if first.is_active else (second, first)
        assert not standby.is_active
        active.stop()
        await eventually(lambda: standby.is_active)
        async with session_factory() as session, session.begin():
            await Outbox("svc").add(session, book(), topic=topic)
        await eventually(lambda: drained(database.dsn))
    assert not first.is_active
    assert not second.is_active


async def test_lock_moves_when_the_holders_connection_dies(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_lockloss")
    relays = [OutboxRelay(database.url, service="svc", kafka=kafka, lock_retry_s=0.2) for _ in range(2)]
    async with running(relays[0]), running(relays[1]):
        holder = await eventually(lambda: next((r for r in relays if r.is_active), None))
        pid = holder._lock_conn.get_server_pid()  # type: ignore[union-attr]
        admin = await asyncpg.connect(database.dsn)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            # Some relay holds the lock again, on a new session (the old one lost it with its backend).
            new_holder = await eventually(
                lambda: next(
                    (
                        r
                        for r in relays
                        if r.is_active and r._lock_conn and r._lock_conn.get_server_pid() != pid
                    ),
                    None,
                )
            )
            holders = await admin.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            assert holders == 1
            assert sum(r.is_active for r in relays) == 1
            assert new_holder.is_active
        finally:
            await admin.close()
        async with session_factory() as session, session.begin():
            await Outbox("svc").add(session, book(), topic=topic)
        await eventually(lambda: drained(database.dsn))


async def test_published_rows_are_deleted_after_retention(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    from datetime import timedelta

    topic = await new_topic("relay_retention")
    async with session_factory() as session, session.begin():
        await Outbox("svc").add_many(session, [book() for _ in range(30)], topic=topic)
    relay = OutboxRelay(database.url, service="svc", kafka=kafka, retention=timedelta(0))
    async with running(relay):
        await eventually(lambda: drained(database.dsn))
    assert await relay.delete_published(chunk=7) == 30
    conn = await asyncpg.connect(database.dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()
