"""(b) The consumer runner: a runner joined to a 6-partition topic handles N envelopes (inbox row and
one upsert each); also the producer and the handler the scale-out members share."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from bookshelf_contracts import BookAdded, Envelope, Message
from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_messaging import (
    BatchHandler,
    ConsumerRunner,
    KafkaSettings,
    create_engine,
    create_session_factory,
    create_topic,
    install,
)
from confluent_kafka import Producer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from .probes import KEYS, book, cpu_per_event, cpu_snapshot, fresh_db, wait_for

UPSERT = sa.text(
    "INSERT INTO stock_view (book_id, events) VALUES (:book_id, 1) "
    "ON CONFLICT (book_id) DO UPDATE SET events = stock_view.events + 1"
)


CALLS = [0]  # handler calls: cheap to poll (the committed count comes from the runner's metric)


async def _upsert_batch(batch: Sequence[tuple[Message, Envelope]], session: AsyncSession) -> None:
    """One upsert per event, sent as one pipelined executemany per partition batch."""
    rows = [{"book_id": message.book_id} for message, _ in batch if isinstance(message, BookAdded)]
    await session.execute(UPSERT, rows)
    CALLS[0] += len(batch)


upsert_handler = BatchHandler(_upsert_batch)


def make_records(events: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    ids = [uuid.uuid4() for _ in range(KEYS)]
    out = []
    for i in range(events):
        book_id = ids[i % KEYS]
        envelope = Envelope.wrap(book(book_id, i), producer="bench", correlation_id=str(uuid.uuid4()))
        out.append((str(book_id).encode(), envelope.to_json(), envelope.kafka_headers()))
    return out


def produce_all(
    kafka: KafkaSettings, topic: str, records: list[tuple[bytes, bytes, Any]], *, spread: bool = False
) -> None:
    """Produce and flush; ``spread`` sends record i to partition i (warming up every member)."""
    producer = Producer({**kafka.confluent_producer_config(), "linger.ms": 5, "acks": "all"})
    for i, (key, value, headers) in enumerate(records):
        extra: dict[str, Any] = {"partition": i} if spread else {}
        while True:
            try:
                producer.produce(topic, value=value, key=key, headers=headers, **extra)
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(60):
        raise RuntimeError("records left unsent")


def handled_count(group: str, topic: str) -> float:
    labels = {"group": group, "topic": topic, "outcome": "handled"}
    return REGISTRY.get_sample_value("bookshelf_consumer_messages_total", labels) or 0.0


async def consumer_run(pg: EmbeddedPostgres, kafka: KafkaSettings, events: int) -> dict[str, float]:
    url = await fresh_db(pg, "bench_consumer")
    engine = create_engine(url)
    await install(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE stock_view (book_id uuid PRIMARY KEY, events int NOT NULL)"))
    topic = f"bench_consumer_{uuid.uuid4().hex[:8]}"
    await create_topic(kafka, topic, 6)
    await create_topic(kafka, f"{topic}.dlq", 6, compacted=True)
    group = f"bench.{uuid.uuid4().hex[:8]}"
    CALLS[0] = 0
    runner = ConsumerRunner(
        group, [topic], {"BookAdded": upsert_handler}, create_session_factory(engine), kafka
    )
    task = asyncio.create_task(runner.run())
    records = make_records(events + 1)
    await asyncio.to_thread(produce_all, kafka, topic, records[:1])  # warm-up: wait for the group join
    await wait_for(lambda: handled_count(group, topic) >= 1, 60, "warm-up message handled")
    started = time.perf_counter()
    cpu_started = cpu_snapshot()
    await asyncio.to_thread(produce_all, kafka, topic, records[1:])
    produced = time.perf_counter()
    await wait_for(lambda: CALLS[0] >= events + 1, 300, "all handler calls")
    await wait_for(lambda: handled_count(group, topic) >= events + 1, 60, "all handled and committed")
    finished = time.perf_counter()
    cpu_used = cpu_per_event(cpu_started, events)
    runner.stop()
    await task
    async with engine.connect() as conn:
        total = await conn.scalar(sa.text("SELECT sum(events) FROM stock_view"))
        inbox = await conn.scalar(sa.text("SELECT count(*) FROM inbox"))
    await engine.dispose()
    if total != events + 1 or inbox != events + 1:
        raise AssertionError(f"expected {events + 1} upserts and inbox rows, got {total} and {inbox}")
    return {
        "produce_s": produced - started,
        "first_produce_to_last_handled_s": finished - started,
        "events_per_s": events / (finished - started),
        **cpu_used,
    }
