"""(a) The outbox relay: commit N rows in one transaction, measure until the broker acknowledged all."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_messaging import (
    KafkaSettings,
    Outbox,
    OutboxRelay,
    create_engine,
    create_session_factory,
    create_topic,
    install,
    outbox_stats,
)

from .probes import KEYS, book, cpu_per_event, cpu_snapshot, fresh_db, wait_for


class AckCounter:
    """The relay's ``after_publish`` hook: counts acknowledged rows and when the last ack came."""

    def __init__(self) -> None:
        self.acked = 0
        self.last_ack = 0.0

    def __call__(self, ids: Sequence[int]) -> None:
        self.acked += len(ids)
        self.last_ack = time.perf_counter()


async def _start_relay(
    url: str, kafka: KafkaSettings, topic: str, acks: AckCounter
) -> tuple[OutboxRelay, asyncio.Task[None]]:
    """An active relay whose producer already has its id and the topic's metadata (one warm-up row)."""
    relay = OutboxRelay(url, service="bench", kafka=kafka, after_publish=acks)
    task = asyncio.create_task(relay.run())
    await wait_for(lambda: relay.is_active, 30, "relay active")
    engine = create_engine(url)
    async with create_session_factory(engine)() as session, session.begin():
        await Outbox("bench").add(session, book(uuid.uuid4(), 0), topic=topic)
    await engine.dispose()
    await wait_for(lambda: acks.acked >= 1, 30, "warm-up ack")
    acks.acked = 0
    return relay, task


async def relay_run(pg: EmbeddedPostgres, kafka: KafkaSettings, events: int) -> dict[str, float]:
    url = await fresh_db(pg, "bench_relay")
    engine = create_engine(url)
    await install(engine)
    topic = f"bench_relay_{uuid.uuid4().hex[:8]}"
    await create_topic(kafka, topic, 6)
    acks = AckCounter()
    relay, task = await _start_relay(url, kafka, topic, acks)
    ids = [uuid.uuid4() for _ in range(KEYS)]
    messages = [book(ids[i % KEYS], i) for i in range(events)]
    started = time.perf_counter()
    async with create_session_factory(engine)() as session, session.begin():
        await Outbox("bench").add_many(session, messages, topic=topic)
    committed = time.perf_counter()
    cpu_started = cpu_snapshot()
    await wait_for(lambda: acks.acked >= events, 300, "all acks")
    cpu_used = cpu_per_event(cpu_started, events)
    async with engine.connect() as conn:

        async def drained() -> bool:
            return (await outbox_stats(conn))[0] == 0

        await wait_for(drained, 120, "all rows marked published")
    marked = time.perf_counter()
    relay.stop()
    await task
    await engine.dispose()
    return {
        "insert_s": committed - started,
        "commit_to_last_ack_s": acks.last_ack - committed,
        "commit_to_all_marked_s": marked - committed,
        "events_per_s": events / (acks.last_ack - committed),
        **cpu_used,
    }
