"""Priority lanes, the dead-letter store and topic admin against the real broker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from bookshelf_contracts import BookAdded, Envelope, Message, TopicSpec
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import (
    ConsumerRunner,
    DeadLetterNotFound,
    DeadLetterStore,
    KafkaSettings,
    ReplayLimitExceeded,
    build_dead_letter,
    create_topic,
    ensure_topics,
)
from bookshelf_messaging.dlq import Failure, header
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import Flaky, TopicFactory, book, consumed, produce, read_all, running


def _record(title: str, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    envelope = Envelope.wrap(book(title=title), producer="test", correlation_id="c")
    return key.encode(), envelope.to_json(), envelope.kafka_headers()


async def test_bulk_lane_yields_to_the_primary_lane(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("lanes", lanes=True)
    total_bulk = 2000
    order: list[str] = []

    async def handler(message: Message, _envelope: Envelope, _session: AsyncSession) -> None:
        assert isinstance(message, BookAdded)
        if message.title.startswith("bulk"):
            await asyncio.sleep(0.001)  # stands in for the work of an import row
        order.append(message.title)

    await produce(
        kafka, f"{topic}.bulk", [_record(f"bulk-{i}", f"k{i}") for i in range(total_bulk)], pipelined=True
    )
    runner = ConsumerRunner(
        unique_name("g"), [topic], {"BookAdded": handler}, session_factory, kafka, lanes=True, batch_max=100
    )
    async with running(runner):
        await eventually(lambda: len(order) >= 200, timeout=30)
        await produce(kafka, topic, [_record(f"primary-{i}", f"k{i}") for i in range(20)], pipelined=True)
        produced_at = len(order)
        await eventually(lambda: sum(t.startswith("primary") for t in order) == 20, timeout=20)
        last_primary = max(i for i, t in enumerate(order) if t.startswith("primary"))
        bulk_before_last_primary = sum(t.startswith("bulk") for t in order[: last_primary + 1])
        # Primary records jumped the queue: only bulk batches already in flight (at most one of
        # batch_max per bulk partition) finished meanwhile ...
        in_flight_max = 6 * 100
        assert (
            bulk_before_last_primary - sum(t.startswith("bulk") for t in order[:produced_at]) <= in_flight_max
        )
        # ... and a large part of the bulk backlog was still waiting.
        assert bulk_before_last_primary < total_bulk - 500
        await eventually(lambda: len(order) >= total_bulk + 20, timeout=30)
    assert consumed(runner.group_id, f"{topic}.bulk", "handled") == total_bulk


async def test_dead_letter_store_list_replay_close_purge(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("dlqstore")
    store = DeadLetterStore(kafka)
    handler = Flaky({"a", "b", "c", "d"})
    runner = ConsumerRunner(
        unique_name("g"), [topic], {"BookAdded": handler}, session_factory, kafka, max_retries=0
    )
    await produce(kafka, topic, [_record(t, "k") for t in ("a", "b", "c", "d", "ok")])
    async with running(runner):
        await eventually(lambda: handler.handled == ["ok"], timeout=20)
        await eventually(lambda: consumed(runner.group_id, topic, "dead_lettered") == 4)
        entries = await asyncio.to_thread(store.list_open, topic)
        assert len(entries) == 4
        by_title = {Envelope.from_json(e.value or b"").data["title"]: e for e in entries}
        assert all(e.original_topic == topic and e.error_type == "RuntimeError" for e in entries)
        assert all(e.consumer_group == runner.group_id and e.replay_count == 0 for e in entries)
        assert (await asyncio.to_thread(store.get, by_title["a"].entry_id)).original_key == b"k"

        # Replay after the fix: handled, entry closed, the replayed record carries replay_count 1.
        handler.failing.discard("a")
        await asyncio.to_thread(store.replay, by_title["a"].entry_id)
        await eventually(lambda: handler.handled == ["ok", "a"], timeout=20)
        records = await read_all(kafka, topic, 6)
        again = [r for r in records if header(r.headers, "dlq.replay_count") == b"1"]
        assert len(again) == 1
        assert again[0].key == b"k"

        # Replay without a fix: a new entry comes back with the replay count carried over.
        await asyncio.to_thread(store.replay, by_title["c"].entry_id)
        await eventually(lambda: consumed(runner.group_id, topic, "dead_lettered") == 5, timeout=20)
        open_now = await asyncio.to_thread(store.list_open, topic)
        ids = {e.entry_id for e in open_now}
        assert by_title["a"].entry_id not in ids
        assert by_title["c"].entry_id not in ids
        assert sorted(e.replay_count for e in open_now) == [0, 0, 1]

        await asyncio.to_thread(store.close, by_title["b"].entry_id)
        assert len(await asyncio.to_thread(store.list_open, topic)) == 2
        assert await asyncio.to_thread(store.purge, topic) == 2
        assert await asyncio.to_thread(store.list_open, topic) == []
        with pytest.raises(DeadLetterNotFound):
            await asyncio.to_thread(store.get, by_title["d"].entry_id)


@dataclass
class FakeRecord:
    topic: str
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"k"
    value: bytes | None = b"{}"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


async def test_replay_refuses_past_the_limit(kafka: KafkaSettings, new_topic: TopicFactory) -> None:
    topic = await new_topic("dlqlimit")
    now = datetime.now(UTC)
    record = FakeRecord(topic, headers=[("dlq.replay_count", b"5")])
    letter = build_dead_letter(record, "g", Failure(ValueError("still broken"), 4, now, now))
    await produce(kafka, letter.topic, [(letter.key.encode(), letter.value, letter.headers)])
    store = DeadLetterStore(kafka)
    with pytest.raises(ReplayLimitExceeded, match="replayed 5 times"):
        await asyncio.to_thread(store.replay, letter.key, max_replays=5)
    assert [e.entry_id for e in await asyncio.to_thread(store.list_open, topic)] == [letter.key]
    await asyncio.to_thread(store.replay, letter.key, max_replays=6)
    assert await asyncio.to_thread(store.list_open, topic) == []


async def test_topic_admin_is_idempotent(kafka: KafkaSettings) -> None:
    name = unique_name("adm")
    assert await create_topic(kafka, name, 3) is True
    assert await create_topic(kafka, name, 3) is False
    spec = TopicSpec(unique_name("adm"), "book_id", partitions=2)
    created = await ensure_topics(kafka, [spec])
    assert sorted(created) == sorted([spec.name, f"{spec.name}.bulk", f"{spec.name}.dlq"])
    assert await ensure_topics(kafka, [spec]) == []
    store = DeadLetterStore(kafka)
    assert f"{spec.name}.dlq" in await asyncio.to_thread(store.dlq_topics)
