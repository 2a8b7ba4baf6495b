"""The consumer runner against the real broker and PostgreSQL: dedup, retries, DLQ, tolerant reader."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from uuid import uuid4

import sqlalchemy as sa
from bookshelf_contracts import BookAdded, Envelope, Message
from bookshelf_infra.testing import TestDatabase, eventually, unique_name
from bookshelf_messaging import (
    BatchHandler,
    ConsumerRunner,
    DeadLetterStore,
    KafkaSettings,
    Outbox,
    OutboxRelay,
    PermanentError,
    context,
    entry_id,
)
from bookshelf_messaging.dlq import header
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import TopicFactory, book, consumed, produce, read_all, running


class Recorder:
    """A handler that records what it saw and writes one row per message in the handler's session."""

    def __init__(self, fail_titles: Sequence[str] = (), permanent: bool = False) -> None:
        self.seen: list[tuple[str, str, str | None, str | None]] = []  # title, message id, corr, cause
        self.attempts: dict[str, int] = {}
        self.fail_titles = set(fail_titles)
        self.permanent = permanent

    async def __call__(self, message: Message, envelope: Envelope, session: AsyncSession) -> None:
        assert isinstance(message, BookAdded)
        self.attempts[message.title] = self.attempts.get(message.title, 0) + 1
        await session.execute(
            sa.text("INSERT INTO applied (message_id) VALUES (:m)"), {"m": envelope.message_id}
        )
        if message.title in self.fail_titles:
            if self.permanent:
                raise PermanentError(f"cannot use book {message.title!r}")
            raise ValueError(f"handler failed for {message.title!r}")
        bound = context.current()
        self.seen.append((message.title, str(envelope.message_id), bound.correlation_id, bound.causation_id))

    def titles(self) -> list[str]:
        """Titles in first-seen order (a rolled-back batch re-runs its handlers one by one)."""
        return list(dict.fromkeys(t for t, *_ in self.seen))


async def _applied_table(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(sa.text("CREATE TABLE applied (message_id uuid PRIMARY KEY)"))


async def _applied(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as session:
        return int(await session.scalar(sa.text("SELECT count(*) FROM applied")) or 0)


def _runner(
    topic: str,
    handler: Recorder,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    **kwargs: object,
) -> ConsumerRunner:
    return ConsumerRunner(
        unique_name("g"),
        [topic],
        {"BookAdded": handler},
        session_factory,
        kafka,
        backoff_base_s=0.01,
        **kwargs,  # type: ignore[arg-type]
    )


def _record(title: str, key: str = "k1") -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    envelope = Envelope.wrap(book(title=title), producer="test", correlation_id=f"corr-{title}")
    return key.encode(), envelope.to_json(), envelope.kafka_headers()


async def test_handler_gets_context_and_commits_with_inbox(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_basic")
    await _applied_table(session_factory)
    await produce(kafka, topic, [_record(f"b{i}", key=f"k{i % 3}") for i in range(30)])
    handler = Recorder()
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: len(handler.seen) == 30, timeout=20)
        assert runner.is_running
    assert not runner.is_running
    assert await _applied(session_factory) == 30
    for title, message_id, correlation, causation in handler.seen:
        assert (correlation, causation) == (f"corr-{title}", message_id)
    assert consumed(runner.group_id, topic, "handled") == 30


async def test_redelivered_message_is_skipped_by_the_inbox(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_dedup")
    await _applied_table(session_factory)
    same = _record("once")
    await produce(kafka, topic, [same, _record("other"), same])  # same key: one partition, in order
    handler = Recorder()
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: consumed(runner.group_id, topic, "duplicate") == 1, timeout=20)
        # A later redelivery (e.g. a relay re-publish) is skipped too.
        await produce(kafka, topic, [same])
        await eventually(lambda: consumed(runner.group_id, topic, "duplicate") == 2, timeout=20)
    assert handler.titles() == ["once", "other"]
    assert await _applied(session_factory) == 2


async def test_relay_republish_after_crash_is_applied_once(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("c_crash")
    await _applied_table(session_factory)
    async with session_factory() as session, session.begin():
        await Outbox("svc").add_many(session, [book(title=f"b{i}") for i in range(10)], topic=topic)

    def crash(_ids: Sequence[int]) -> None:
        raise RuntimeError("relay killed between publish and mark")

    with contextlib.suppress(RuntimeError):
        await asyncio.wait_for(
            OutboxRelay(database.url, service="svc", kafka=kafka, after_publish=crash).run(), 20
        )
    handler = Recorder()
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(OutboxRelay(database.url, service="svc", kafka=kafka)), running(runner):
        await read_all(kafka, topic, 20)
        await eventually(lambda: consumed(runner.group_id, topic, "duplicate") == 10, timeout=20)
    assert sorted(handler.titles()) == sorted(f"b{i}" for i in range(10))
    assert await _applied(session_factory) == 10


async def test_failing_handler_is_retried_then_dead_lettered_with_every_header(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_retry")
    await _applied_table(session_factory)
    records = [_record("ok-1"), _record("bad"), _record("ok-2")]
    await produce(kafka, topic, records)
    handler = Recorder(fail_titles=["bad"])
    runner = _runner(topic, handler, session_factory, kafka, max_retries=3)
    async with running(runner):
        await eventually(lambda: handler.titles() == ["ok-1", "ok-2"], timeout=20)
        dead = await read_all(kafka, f"{topic}.dlq", 1)
    assert handler.attempts["bad"] == 4  # first try + 3 retries
    assert await _applied(session_factory) == 2  # the failed attempts rolled back
    letter = dead[0]
    original = next(r for r in await read_all(kafka, topic, 3) if r.value == records[1][1])
    assert letter.key == entry_id(runner.group_id, topic, original.partition, original.offset).encode()
    assert letter.value == records[1][1]
    headers = dict(letter.headers)
    assert headers["type"] == b"BookAdded"  # original headers kept
    assert headers["dlq.original_topic"] == topic.encode()
    assert headers["dlq.original_partition"] == str(original.partition).encode()
    assert headers["dlq.original_offset"] == str(original.offset).encode()
    assert headers["dlq.original_key"] == b"k1"
    assert headers["dlq.consumer_group"] == runner.group_id.encode()
    assert headers["dlq.error_type"] == b"ValueError"
    assert headers["dlq.error_message"] == b"handler failed for 'bad'"
    assert b"Traceback" in headers["dlq.stacktrace"]
    assert b"raise ValueError" in headers["dlq.stacktrace"]
    assert headers["dlq.attempts"] == b"4"
    assert headers["dlq.first_failed_at"] < headers["dlq.last_failed_at"]
    assert headers["dlq.replay_count"] == b"0"
    assert consumed(runner.group_id, topic, "dead_lettered") == 1
    entries = await asyncio.to_thread(DeadLetterStore(kafka).list_open, topic)
    assert [(e.error_type, e.attempts, e.original_offset) for e in entries] == [
        ("ValueError", 4, original.offset)
    ]


async def test_permanent_error_is_dead_lettered_at_once(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_perm")
    await _applied_table(session_factory)
    await produce(kafka, topic, [_record("bad"), _record("ok")])
    handler = Recorder(fail_titles=["bad"], permanent=True)
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: handler.titles() == ["ok"], timeout=20)
        dead = await read_all(kafka, f"{topic}.dlq", 1)
    assert handler.attempts["bad"] == 1
    assert header(dead[0].headers, "dlq.attempts") == b"1"
    assert header(dead[0].headers, "dlq.error_type") == b"bookshelf_messaging.errors.PermanentError"


async def test_poison_record_goes_to_the_dlq_at_once_and_does_not_block(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_poison")
    await _applied_table(session_factory)
    invalid = Envelope.wrap(book(title="x"), producer="t", correlation_id="c").model_copy(
        update={"data": {"book_id": str(uuid4()), "title": ""}}
    )
    await produce(kafka, topic, [(b"k1", b"{not json"), (b"k1", invalid.to_json()), _record("after")])
    handler = Recorder()
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: handler.titles() == ["after"], timeout=20)
        dead = await read_all(kafka, f"{topic}.dlq", 2)
    by_offset = sorted(dead, key=lambda r: int(header(r.headers, "dlq.original_offset") or 0))
    assert [header(r.headers, "dlq.error_type") for r in by_offset] == [
        b"bookshelf_contracts.errors.InvalidEnvelope",
        b"bookshelf_contracts.errors.MessageValidationError",
    ]
    assert by_offset[0].value == b"{not json"
    assert all(header(r.headers, "dlq.attempts") == b"1" for r in dead)
    assert consumed(runner.group_id, topic, "dead_lettered") == 2


async def test_unknown_type_is_ignored(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_unknown")
    await _applied_table(session_factory)
    envelope = Envelope.wrap(book(), producer="t", correlation_id="c")
    unknown = envelope.model_copy(update={"type": "BookBurned", "message_id": uuid4()})
    unhandled = Envelope.wrap(
        BookAdded.model_validate({**book().model_dump(), "title": "x"}), producer="t", correlation_id="c"
    ).model_copy(update={"type": "BookPriceUpdated"})
    await produce(kafka, topic, [(b"k1", unknown.to_json()), (b"k1", unhandled.to_json()), _record("after")])
    handler = Recorder()
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: handler.titles() == ["after"], timeout=20)
        await eventually(lambda: consumed(runner.group_id, topic, "ignored") == 2)
    assert consumed(runner.group_id, topic, "dead_lettered") == 0


async def test_a_batch_handler_gets_runs_of_messages_and_falls_back_to_one_by_one(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_batch", partitions=1)
    await _applied_table(session_factory)
    calls: list[list[str]] = []

    async def apply(batch: Sequence[tuple[Message, Envelope]], session: AsyncSession) -> None:
        titles = [m.title for m, _ in batch if isinstance(m, BookAdded)]
        calls.append(titles)
        rows = [{"m": envelope.message_id} for _, envelope in batch]
        await session.execute(sa.text("INSERT INTO applied (message_id) VALUES (:m)"), rows)
        if "bad" in titles:
            raise ValueError("cannot apply 'bad'")

    titles = [f"b{i}" for i in range(40)]
    await produce(kafka, topic, [_record(t) for t in [*titles[:20], "bad", *titles[20:]]])
    runner = ConsumerRunner(
        unique_name("g"),
        [topic],
        {"BookAdded": BatchHandler(apply)},
        session_factory,
        kafka,
        backoff_base_s=0.01,
        max_retries=1,
    )
    async with running(runner):
        await eventually(lambda: consumed(runner.group_id, topic, "dead_lettered") == 1, timeout=30)
        await eventually(lambda: consumed(runner.group_id, topic, "handled") == 40, timeout=30)
    assert any(len(call) > 1 for call in calls)  # consecutive messages arrived together
    applied_in_order = [t for call in calls if "bad" not in call for t in call]
    assert [t for t in dict.fromkeys(applied_in_order)] == titles  # per-partition order kept
    assert await _applied(session_factory) == 40  # the failed batch rolled back; each applied once
