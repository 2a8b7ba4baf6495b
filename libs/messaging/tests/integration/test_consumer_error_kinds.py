"""The consumer runner treats a failure by its cause (issue 16, item 3), against the real broker and
PostgreSQL, with errors PostgreSQL and asyncpg really raise:

- a value asyncpg cannot encode (version 2**31 into an int4 column) used to surface as an
  InterfaceError, count as an outage and freeze its partition forever: it is a data error, dead-lettered
  at once; so is a server-side data exception (SQLSTATE class 22);
- deadlocks, serialization failures, read-only transactions (failover) and lock timeouts used to be
  dead-lettered after ~0.7 s of retries: they are retried with backoff outside the dead-letter budget;
- a lost connection is infrastructure: the partition waits and retries, and the wait is counted.
"""

from __future__ import annotations

import asyncio

import asyncpg
import sqlalchemy as sa
from bookshelf_contracts import BookAdded, Envelope, Message
from bookshelf_infra.testing import TestDatabase, eventually, unique_name
from bookshelf_messaging import ConsumerRunner, KafkaSettings
from bookshelf_messaging.dlq import header
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import TopicFactory, book, consumed, counter, produce, read_all, running

# Attempts that fail before a transient conflict clears: more than the dead-letter budget allows.
CONFLICTS_BEFORE_SUCCESS = 6
MAX_RETRIES = 3


def _record(title: str, *, version: int = 1) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    envelope = Envelope.wrap(book(title=title, version=version), producer="test", correlation_id="c")
    return b"k1", envelope.to_json(), envelope.kafka_headers()


def _runner(
    topic: str, handler: object, session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings
) -> ConsumerRunner:
    return ConsumerRunner(
        unique_name("g"),
        [topic],
        {"BookAdded": handler},  # type: ignore[dict-item]
        session_factory,
        kafka,
        max_retries=MAX_RETRIES,
        backoff_base_s=0.01,
        backoff_max_s=0.2,
    )


class Versions:
    """Stores each book's version in an int4 column (as services store aggregate versions)."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.handled: list[str] = []

    async def __call__(self, message: Message, envelope: Envelope, session: AsyncSession) -> None:
        assert isinstance(message, BookAdded)
        self.attempts[message.title] = self.attempts.get(message.title, 0) + 1
        if message.title == "division":
            await session.execute(sa.text("SELECT 1 / :zero"), {"zero": 0})  # SQLSTATE 22012
        await session.execute(
            sa.text("INSERT INTO versions (book_id, version) VALUES (:id, :v)"),
            {"id": message.book_id, "v": message.version},
        )
        self.handled.append(message.title)


async def _versions_table(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(sa.text("CREATE TABLE versions (book_id uuid PRIMARY KEY, version integer)"))


async def test_data_errors_are_dead_lettered_at_once_and_the_partition_moves_on(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_data", partitions=1)
    await _versions_table(session_factory)
    # BookDetailsUpdated-like version 2**31: asyncpg cannot encode it for an int4 parameter.
    await produce(
        kafka, topic, [_record("int32", version=2**31), _record("division"), _record("after", version=2)]
    )
    handler = Versions()
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: handler.handled == ["after"], timeout=30, message="partition frozen")
        dead = await read_all(kafka, f"{topic}.dlq", 2)
    assert handler.attempts == {"int32": 1, "division": 1, "after": 1}
    assert sorted(header(r.headers, "dlq.attempts") for r in dead) == [b"1", b"1"]
    assert consumed(runner.group_id, topic, "dead_lettered") == 2


class Conflicts:
    """Fails with a real SQLSTATE of PostgreSQL a few times (per title), then succeeds."""

    CODES = {"deadlock": "40P01", "serialization": "40001", "read-only": "25006"}

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.handled: list[str] = []

    async def __call__(self, message: Message, envelope: Envelope, session: AsyncSession) -> None:
        assert isinstance(message, BookAdded)
        title = message.title
        self.attempts[title] = self.attempts.get(title, 0) + 1
        if title in self.CODES and self.attempts[title] <= CONFLICTS_BEFORE_SUCCESS:
            code = self.CODES[title]
            await session.execute(
                sa.text(f"DO $$ BEGIN RAISE EXCEPTION 'conflict {code}' USING ERRCODE = '{code}'; END $$")
            )
        if title == "locked":
            # A real lock timeout (55P03) while the test holds the row.
            await session.execute(sa.text("SET LOCAL lock_timeout = '50ms'"))
            await session.execute(sa.text("UPDATE locked SET n = n + 1 WHERE id = 1"))
        self.handled.append(title)


async def test_transient_conflicts_are_retried_beyond_the_dead_letter_budget(
    database: TestDatabase,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    new_topic: TopicFactory,
) -> None:
    topic = await new_topic("c_transient", partitions=1)
    async with session_factory() as session, session.begin():
        await session.execute(sa.text("CREATE TABLE locked (id int PRIMARY KEY, n int NOT NULL)"))
        await session.execute(sa.text("INSERT INTO locked VALUES (1, 0)"))
    holder = await asyncpg.connect(database.dsn)
    lock = holder.transaction()
    await lock.start()
    await holder.execute("SELECT * FROM locked WHERE id = 1 FOR UPDATE")
    titles = ["deadlock", "serialization", "read-only", "locked", "after"]
    await produce(kafka, topic, [_record(t) for t in titles])
    handler = Conflicts()
    runner = _runner(topic, handler, session_factory, kafka)
    try:
        async with running(runner):
            await eventually(lambda: handler.attempts.get("locked", 0) > 2 * MAX_RETRIES, timeout=30)
            await asyncio.sleep(1.0)  # well past the ~0.7 s the dead-letter budget used to allow
            await lock.rollback()
            await eventually(lambda: handler.handled == titles, timeout=30, message=str(handler.attempts))
    finally:
        await holder.close()
    for title in ("deadlock", "serialization", "read-only"):
        assert handler.attempts[title] == CONFLICTS_BEFORE_SUCCESS + 1
    assert consumed(runner.group_id, topic, "dead_lettered") == 0
    assert consumed(runner.group_id, topic, "handled") == len(titles)
    conflicts = counter(
        "bookshelf_consumer_transient_conflicts_total", group=runner.group_id, topic=topic, sqlstate="40P01"
    )
    assert conflicts == CONFLICTS_BEFORE_SUCCESS


class Disconnects:
    """Loses its database session (terminated by the server, 57P01) the first ``times`` attempts."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.attempts = 0
        self.handled = 0

    async def __call__(self, message: Message, envelope: Envelope, session: AsyncSession) -> None:
        self.attempts += 1
        if self.attempts <= self.times:
            await session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        self.handled += 1


async def test_a_lost_connection_is_infrastructure_waited_for_and_counted(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings, new_topic: TopicFactory
) -> None:
    topic = await new_topic("c_infra", partitions=1)
    await produce(kafka, topic, [_record("b1")])
    handler = Disconnects(times=2)
    runner = _runner(topic, handler, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: handler.handled == 1, timeout=30)
        labels = {"group": runner.group_id, "topic": topic, "partition": "0"}
        # Set while the partition waited, cleared once its batch committed.
        await eventually(
            lambda: REGISTRY.get_sample_value("bookshelf_consumer_infrastructure_stalled", labels) == 0
        )
    assert consumed(runner.group_id, topic, "dead_lettered") == 0
    assert total("bookshelf_consumer_infrastructure_errors_total", group=runner.group_id, topic=topic) == 2


def total(name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels`` (any other label value)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )
