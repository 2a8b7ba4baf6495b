"""The relay against records the broker will not take (issue 16, items 1 and 2), on the real broker
and PostgreSQL.

1. One oversized row used to take a service down for good: ``produce()`` raised MSG_SIZE_TOO_LARGE,
   the relay task died, the process restarted, met the same row and died again. ``Outbox.add`` now
   refuses such an event; a row refused for good anyway is parked (kept in the outbox with its error,
   for an operator to retry or drop) and the rows after it keep flowing.
2. With up to 4 batches in flight, a failed row stayed unpublished while rows produced after it were
   marked published, so the broker could hold a later event of a key without the earlier one. After a
   failed delivery no row produced after it is marked; the retry republishes them in id order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from bookshelf_contracts import Envelope, SupplierPayloadReceived
from bookshelf_infra.testing import TestDatabase, eventually, unique_name
from bookshelf_messaging import KafkaSettings, Outbox, OutboxRelay
from bookshelf_messaging.errors import MessageTooLarge
from bookshelf_messaging.limits import MAX_MESSAGE_BYTES, MAX_RECORD_BYTES
from bookshelf_messaging.parked import drop_parked, list_parked, retry_parked
from confluent_kafka import KafkaError
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import InjectedDeliveryFailures, TopicFactory, book, read_all, read_to_end, running
from .test_outbox_relay import drained

OVERSIZED = 1_100_000  # over librdkafka's message.max.bytes: produce() itself refuses it


async def _add(session_factory: async_sessionmaker[AsyncSession], topic: str, titles: list[str]) -> None:
    async with session_factory() as session, session.begin():
        for title in titles:
            await Outbox("svc").add(session, book(title=title), topic=topic)


async def test_a_row_the_producer_refuses_is_parked_and_later_rows_flow(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_park", partitions=1)
    service = unique_name("svc")
    await _add(session_factory, topic, ["before"])
    conn = await asyncpg.connect(database.dsn)
    try:
        # A row written before the outbox checked sizes (or by hand): the relay must survive it.
        oversized = await conn.fetchval(
            "INSERT INTO outbox (topic, key, value, headers) VALUES ($1, 'k', $2, '[]') RETURNING id",
            topic,
            b"x" * OVERSIZED,
        )
        await _add(session_factory, topic, ["after-1", "after-2", "after-3"])
        relay = OutboxRelay(database.url, service=service, kafka=kafka, stats_interval_s=0.1)
        async with running(relay) as task:
            records = await read_all(kafka, topic, 4)
            await eventually(lambda: drained(database.dsn), timeout=20)
            assert not task.done()  # the relay lives on
            assert relay.is_active
            labels = {"service": service}
            await eventually(lambda: REGISTRY.get_sample_value("bookshelf_outbox_parked_rows", labels) == 1)
            await _add(session_factory, topic, ["later"])  # and keeps publishing what comes next
            records = await read_all(kafka, topic, 5)
        titles = [Envelope.from_json(r.value).data["title"] for r in records]
        assert titles == ["before", "after-1", "after-2", "after-3", "later"]
        parked = await conn.fetch("SELECT id, parked_error FROM outbox WHERE parked_at IS NOT NULL")
        assert [row["id"] for row in parked] == [oversized]
        assert "too large" in parked[0]["parked_error"].lower()
        assert await conn.fetchval("SELECT published_at FROM outbox WHERE id = $1", oversized) is None
        assert REGISTRY.get_sample_value("bookshelf_outbox_parked_total", labels) == 1
    finally:
        await conn.close()


async def test_after_a_failed_delivery_later_rows_are_republished_in_id_order(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_partial", partitions=1)
    key = uuid4()
    async with session_factory() as session, session.begin():
        await Outbox("svc").add_many(session, [book(key, version=v) for v in range(1, 41)], topic=topic)
    conn = await asyncpg.connect(database.dsn)
    try:
        ids = [row["id"] for row in await conn.fetch("SELECT id FROM outbox ORDER BY id")]
    finally:
        await conn.close()
    victim = ids[6]  # version 7, in the second of 4 batches in flight
    failures = InjectedDeliveryFailures({victim: KafkaError._MSG_TIMED_OUT})
    relay = OutboxRelay(
        database.url,
        service="svc",
        kafka=kafka,
        batch_size=5,
        max_in_flight=4,
        producer_factory=failures.factory,
    )
    async with running(relay):
        await eventually(lambda: drained(database.dsn), timeout=30)
    assert failures.injected == [victim]
    versions = [Envelope.from_json(r.value).data["version"] for r in await read_to_end(kafka, topic)]
    assert set(versions) == set(range(1, 41))
    last_failed = len(versions) - 1 - versions[::-1].index(7)
    # Everything produced after the failed row is published again after it, in id order: the last
    # copy of each event on the partition is in the order the events were written.
    assert versions[last_failed:] == list(range(7, 41)), versions


async def test_a_row_the_broker_refuses_is_parked_and_an_operator_can_retry_it(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_refused", partitions=1)
    await _add(session_factory, topic, ["first", "refused", "third"])
    conn = await asyncpg.connect(database.dsn)
    try:
        ids = [row["id"] for row in await conn.fetch("SELECT id FROM outbox ORDER BY id")]
        # The broker's answer when a record exceeds the topic's max.message.bytes.
        failures = InjectedDeliveryFailures({ids[1]: KafkaError.MSG_SIZE_TOO_LARGE})
        relay = OutboxRelay(
            database.url, service="svc", kafka=kafka, poll_interval_s=0.1, producer_factory=failures.factory
        )
        async with running(relay):
            await eventually(lambda: drained(database.dsn), timeout=20)
            parked = await list_parked(conn)
            assert [(p.id, p.topic) for p in parked] == [(ids[1], topic)]
            assert parked[0].error == "Broker: Message size too large"
            # The operator raised the topic's limit: the row goes out again.
            assert await retry_parked(conn, [ids[1]]) == 1
            await eventually(
                lambda: conn.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE id = $1", ids[1])
            )
        assert await list_parked(conn) == []
        records = await read_to_end(kafka, topic)
        titles = [Envelope.from_json(r.value).data["title"] for r in records]
        assert titles == ["first", "refused", "third", "refused"]  # the refused copy was sent, too
    finally:
        await conn.close()


async def test_parked_rows_can_be_dropped(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("relay_drop", partitions=1)
    conn = await asyncpg.connect(database.dsn)
    try:
        oversized = await conn.fetchval(
            "INSERT INTO outbox (topic, key, value, headers) VALUES ($1, 'k', $2, '[]') RETURNING id",
            topic,
            b"x" * OVERSIZED,
        )
        relay = OutboxRelay(database.url, service="svc", kafka=kafka)
        async with running(relay):
            await eventually(lambda: list_parked(conn))
        assert await retry_parked(conn, [oversized + 1]) == 0  # not parked: nothing to do
        assert await drop_parked(conn, [oversized]) == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()


async def test_the_outbox_refuses_an_event_over_the_size_limit(
    database: TestDatabase, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    event = SupplierPayloadReceived(
        payload_id=uuid4(),
        event_type="new_book_available",
        payload={"blob": "x" * MAX_MESSAGE_BYTES},
        received_at=datetime.now(UTC),
    )
    fits = event.model_copy(update={"payload": {"blob": "x" * (MAX_RECORD_BYTES - 2_000)}})
    outbox = Outbox("catalog")
    with pytest.raises(MessageTooLarge, match=f"limit is {MAX_RECORD_BYTES:,} bytes") as caught:
        async with session_factory() as session, session.begin():
            await outbox.add(session, event)
    assert caught.value.size > MAX_MESSAGE_BYTES
    with pytest.raises(MessageTooLarge):
        async with session_factory() as session, session.begin():
            await outbox.add_many(session, [fits, event])
    async with session_factory() as session, session.begin():
        await outbox.add(session, fits)
    conn = await asyncpg.connect(database.dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await conn.close()
