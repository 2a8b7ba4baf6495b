"""Dead-letter tooling against the real broker and PostgreSQL (issue 16, item 5): replays addressed
to the group that failed, tombstones dead-lettered visibly, cut letters never replayed as if whole,
and closing exactly the entries that were shown."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from bookshelf_contracts import Envelope
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import (
    ConsumerRunner,
    DeadLetterStore,
    KafkaSettings,
    NotReplayable,
    build_dead_letter,
)
from bookshelf_messaging.dlq import Failure, truncated
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import Flaky, TopicFactory, book, consumed, produce, read_to_end, running


def _runner(
    group: str, topic: str, handler: Flaky, sessions: async_sessionmaker[AsyncSession], kafka: KafkaSettings
) -> ConsumerRunner:
    return ConsumerRunner(group, [topic], {"BookAdded": handler}, sessions, kafka, max_retries=0)


async def test_a_replay_runs_only_in_the_group_that_failed_it(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("dlqaddr", partitions=1)
    store = DeadLetterStore(kafka)
    first, second = unique_name("g1"), unique_name("g2")
    fails_in_first, fine_in_second = Flaky({"only-first"}), Flaky(set())
    poison = (b"p", b"{not json", [("type", b"BookAdded")])
    envelope = Envelope.wrap(book(title="only-first"), producer="test", correlation_id="c")
    await produce(kafka, topic, [poison, (b"k", envelope.to_json(), envelope.kafka_headers())])

    async with (
        running(_runner(first, topic, fails_in_first, session_factory, kafka)),
        running(_runner(second, topic, fine_in_second, session_factory, kafka)),
    ):
        await eventually(lambda: fine_in_second.handled == ["only-first"], timeout=30)
        await eventually(lambda: consumed(first, topic, "dead_lettered") == 2, timeout=30)
        await eventually(lambda: consumed(second, topic, "dead_lettered") == 1, timeout=30)
        entries = await asyncio.to_thread(store.list_open, topic)
        assert sorted((e.consumer_group, e.original_offset) for e in entries) == sorted(
            [(first, 0), (second, 0), (first, 1)]
        )
        # The second group's inbox no longer remembers the message (its retention passed).
        async with session_factory() as session, session.begin():
            await session.execute(sa.text("DELETE FROM inbox WHERE consumer_group = :g"), {"g": second})

        # Fixed in the first group, replayed: handled there, and not a second time in the other one.
        fails_in_first.failing.clear()
        [handled_entry] = [e for e in entries if e.original_offset == 1]
        await asyncio.to_thread(store.replay, handled_entry.entry_id)
        await eventually(lambda: fails_in_first.handled == ["only-first"], timeout=30)
        # The poison failed in both groups: each replay goes back to its own group only.
        for entry in entries:
            if entry.original_offset == 0:
                await asyncio.to_thread(store.replay, entry.entry_id)
        await eventually(lambda: consumed(second, topic, "replay_for_other_group") == 2, timeout=30)
        await eventually(lambda: consumed(first, topic, "replay_for_other_group") == 1, timeout=30)
        await eventually(lambda: consumed(first, topic, "dead_lettered") == 3, timeout=30)
        await eventually(lambda: consumed(second, topic, "dead_lettered") == 2, timeout=30)

    assert fine_in_second.handled == ["only-first"], "re-applied in a group where it had succeeded"
    again = await asyncio.to_thread(store.list_open, topic)
    assert sorted((e.consumer_group, e.replay_count) for e in again) == sorted([(first, 1), (second, 1)])


async def test_a_tombstone_on_an_event_topic_is_a_visible_dead_letter(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("dlqnull", partitions=1)
    store = DeadLetterStore(kafka)
    runner = _runner(unique_name("g"), topic, Flaky(set()), session_factory, kafka)
    await produce(kafka, topic, [(b"some-key", None)])
    async with running(runner):
        await eventually(lambda: consumed(runner.group_id, topic, "dead_lettered") == 1, timeout=30)

    [entry] = await asyncio.to_thread(store.list_open, topic)
    assert entry.original_tombstone
    assert entry.value == b""
    assert entry.original_key == b"some-key"
    assert entry.error_type.endswith("InvalidEnvelope")
    with pytest.raises(NotReplayable, match="nothing to replay"):
        await asyncio.to_thread(store.replay, entry.entry_id)
    assert [e.entry_id for e in await asyncio.to_thread(store.list_open, topic)] == [entry.entry_id]


@dataclass
class FakeRecord:
    topic: str
    partition: int = 0
    offset: int = 3
    key: bytes | None = b"k"
    value: bytes | None = b"{}"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


async def test_a_cut_dead_letter_is_never_replayed_as_if_whole(
    kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("dlqcut", partitions=1)
    now = datetime.now(UTC)
    record = FakeRecord(topic, value=b"x" * 200_000)
    letter = truncated(build_dead_letter(record, "g", Failure(ValueError("too big"), 1, now, now)))
    await produce(kafka, letter.topic, [(letter.key.encode(), letter.value, letter.headers)])
    store = DeadLetterStore(kafka)

    with pytest.raises(NotReplayable, match=rf"200000 bytes.*{topic} partition 0 offset 3"):
        await asyncio.to_thread(store.replay, letter.key)
    [entry] = await asyncio.to_thread(store.list_open, topic)
    assert await asyncio.to_thread(store.replay_entries, [entry]) == [entry]
    assert await read_to_end(kafka, topic) == [], "a cut record was published"
    assert [e.entry_id for e in await asyncio.to_thread(store.list_open, topic)] == [letter.key]


async def test_close_ids_closes_exactly_the_entries_named(
    kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("dlqclose", partitions=1)
    now = datetime.now(UTC)
    letters = [
        build_dead_letter(FakeRecord(topic, offset=o), "g", Failure(ValueError("x"), 1, now, now))
        for o in range(3)
    ]
    await produce(kafka, letters[0].topic, [(x.key.encode(), x.value, x.headers) for x in letters])
    store = DeadLetterStore(kafka)
    closed = await asyncio.to_thread(
        store.close_ids, topic, [letters[0].key, letters[1].key, "0000000000000000"]
    )
    assert sorted(e.entry_id for e in closed) == sorted([letters[0].key, letters[1].key])
    assert [e.entry_id for e in await asyncio.to_thread(store.list_open, topic)] == [letters[2].key]
