"""Fixtures for messaging integration tests: real broker and PostgreSQL from the bookshelf plugin."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import BookAdded, Envelope, Message, Money
from bookshelf_infra.testing import TestDatabase, eventually, partitions_of, unique_name
from bookshelf_infra.testing.tap import Tap
from bookshelf_messaging import KafkaSettings, create_engine, create_session_factory, create_topic, install
from bookshelf_messaging._delivery import BatchDelivery, DeliveryCallback, ThreadedProducer
from confluent_kafka import KafkaError
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


@pytest.fixture(scope="session")
def kafka(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap)


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database.url, pool_size=8)
    await install(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@dataclass
class Flaky:
    """A handler that fails for titles in ``failing`` and records the titles it handled."""

    failing: set[str]
    handled: list[str] = field(default_factory=list)

    async def __call__(self, message: Message, _envelope: Envelope, _session: AsyncSession) -> None:
        assert isinstance(message, BookAdded)
        if message.title in self.failing:
            raise RuntimeError(f"cannot handle {message.title}")
        self.handled.append(message.title)


class TopicFactory(Protocol):
    async def __call__(self, prefix: str = "t", *, partitions: int = 6, lanes: bool = False) -> str: ...


@pytest.fixture
def new_topic(kafka: KafkaSettings) -> TopicFactory:
    """Creates a uniquely named topic with its ``.dlq`` (and ``.bulk`` when asked)."""

    async def make(prefix: str = "t", *, partitions: int = 6, lanes: bool = False) -> str:
        name = unique_name(prefix)
        await create_topic(kafka, name, partitions)
        await create_topic(kafka, f"{name}.dlq", partitions, compacted=True)
        if lanes:
            await create_topic(kafka, f"{name}.bulk", partitions)
        return name

    return make


def book(book_id: UUID | None = None, *, version: int = 1, title: str = "Dune") -> BookAdded:
    return BookAdded(
        book_id=book_id or uuid4(),
        title=title,
        author="Frank Herbert",
        price=Money(amount=Decimal("9.99"), currency="USD"),
        version=version,
    )


def counter(name: str, **labels: str) -> float:
    """Current value of a Prometheus sample (0 when never set)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def consumed(group: str, topic: str, outcome: str) -> float:
    return counter("bookshelf_consumer_messages_total", group=group, topic=topic, outcome=outcome)


@contextlib.asynccontextmanager
async def running(service: Any, *, stop_within: float = 20.0) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``service.run()`` as a task for the block; stop it and surface its errors afterwards."""
    task = asyncio.create_task(service.run())
    try:
        yield task
    finally:
        service.stop()
        if not task.done() or not task.cancelled():
            await asyncio.wait_for(task, stop_within)


Record = tuple[bytes | None, bytes | None] | tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


async def produce(
    kafka: KafkaSettings, topic: str, records: list[Record], *, pipelined: bool = False
) -> None:
    """Produce ``(key, value[, headers])`` records in order and wait for every ack.

    ``pipelined`` sends everything before awaiting the acks (fast; order per partition still holds
    because nothing fails on a healthy broker).
    """
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = []
        for key, value, *rest in records:
            headers = rest[0] if rest else []
            if pipelined:
                futures.append(await producer.send(topic, value=value, key=key, headers=headers))
            else:
                await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def from_the_beginning(
    kafka: KafkaSettings, topic: str, within: float
) -> AsyncIterator[tuple[AIOKafkaConsumer, list[TopicPartition]]]:
    """An unsubscribed consumer assigned every partition of ``topic``, at its beginning."""
    consumer = AIOKafkaConsumer(**kafka.aiokafka_kwargs(), enable_auto_commit=False, fetch_max_wait_ms=10)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await partitions_of(consumer, topic, timeout=within)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        yield consumer, tps
    finally:
        await consumer.stop()


async def read_all(
    kafka: KafkaSettings, topic: str, count: int, *, within: float = 20.0
) -> list[ConsumerRecord[Any, Any]]:
    """Read a topic from the beginning (no group) until ``count`` records arrived."""
    async with Tap(kafka, topic) as tap:
        return await tap.wait_for(lambda _: True, count=count, timeout=within)


Check = Callable[[], Any | Awaitable[Any]]


class InjectedDeliveryFailures:
    """Delivery reports to falsify, for ``OutboxRelay(producer_factory=failures.factory)``.

    ``failures`` maps outbox row ids to a librdkafka error code; the first report of each such row says
    that error instead of success (the record itself is produced as usual: a lost acknowledgement, as
    far as the relay can tell). Later reports of the row are the broker's own.
    """

    def __init__(self, failures: dict[int, int]) -> None:
        self.pending = dict(failures)
        self.injected: list[int] = []

    def factory(self, config: dict[str, Any]) -> ThreadedProducer:
        return _FailingProducer(config, self)


class _FailingProducer(ThreadedProducer):
    def __init__(self, config: dict[str, Any], failures: InjectedDeliveryFailures) -> None:
        super().__init__(config)
        self.failures = failures

    def delivery_callback(self, delivery: BatchDelivery, row_id: int) -> DeliveryCallback:
        callback = super().delivery_callback(delivery, row_id)
        code = self.failures.pending.pop(row_id, None)
        if code is None:
            return callback
        self.failures.injected.append(row_id)

        def report(err: KafkaError | None, msg: Any) -> None:
            callback(err if err is not None else KafkaError(code), msg)

        return report


async def read_to_end(
    kafka: KafkaSettings, topic: str, *, within: float = 20.0
) -> list[ConsumerRecord[Any, Any]]:
    """Every record of a topic (each partition read up to its end offset), in partition/offset order."""
    async with from_the_beginning(kafka, topic, within) as (consumer, tps):
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[Any, Any]] = []

        async def at_end() -> bool:
            for batch in (await consumer.getmany(timeout_ms=100)).values():
                records.extend(batch)
            positions = [await consumer.position(tp) for tp in tps]
            return all(position >= ends[tp] for position, tp in zip(positions, tps, strict=True))

        await eventually(at_end, timeout=within, message=f"the end of {topic}")
        return sorted(records, key=lambda r: (r.partition, r.offset))
