"""A rewind that lands between a fetch and its dispatch must not let the fetched records jump the
rewind point (issue 16, item 7c). No I/O: the runner's real fetch loop, lanes and partition workers
run against an in-memory partition log.

With priority lanes the fetch loop awaits the consumer (``LaneController.apply`` reads positions)
between ``getmany`` and ``dispatch``. A worker whose batch fails on the database in that window
rewinds its partition to the batch's first record; the records just fetched lie beyond that point.
Queued anyway, they ran before the rewound ones, their offsets were committed, and the rewound
records, fetched again, were dropped as already queued: lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from bookshelf_infra.testing import eventually
from bookshelf_messaging.consumer import ConsumerRunner
from bookshelf_messaging.settings import KafkaSettings

PRIMARY = TopicPartition("t", 0)
BULK = TopicPartition("t.bulk", 0)
CHUNK = 100


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int


@dataclass
class FakeConsumer:
    """One primary partition of ``size`` records (its bulk lane empty), served ``CHUNK`` at a time.

    ``position()`` of the primary partition, once the second chunk was handed out, waits until a
    worker rewound the partition: the race, made certain.
    """

    size: int
    pos: dict[TopicPartition, int] = field(default_factory=lambda: {PRIMARY: 0, BULK: 0})
    held: set[TopicPartition] = field(default_factory=set)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    fetches: int = 0
    second_fetch: asyncio.Event = field(default_factory=asyncio.Event)
    rewound: asyncio.Event = field(default_factory=asyncio.Event)
    raced: bool = False

    def assignment(self) -> set[TopicPartition]:
        return {PRIMARY, BULK}

    def paused(self) -> set[TopicPartition]:
        return set(self.held)

    def pause(self, *tps: TopicPartition) -> None:
        self.held.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.held.difference_update(tps)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.size if tp == PRIMARY else None

    async def position(self, tp: TopicPartition) -> int:
        if tp == PRIMARY and self.second_fetch.is_set() and not self.raced:
            self.raced = True
            await self.rewound.wait()
        return self.pos[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.pos[tp] = offset
        self.rewound.set()

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Rec]]:
        start = self.pos[PRIMARY]
        if PRIMARY in self.held or start >= self.size:
            await asyncio.sleep(timeout_ms / 1000)  # an idle broker answers after the fetch wait
            return {}
        end = min(start + CHUNK, self.size)
        self.pos[PRIMARY] = end
        self.fetches += 1
        if self.fetches == 2:
            self.second_fetch.set()
        return {PRIMARY: [Rec(PRIMARY.topic, PRIMARY.partition, o) for o in range(start, end)]}

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.committed.update({tp: meta.offset for tp, meta in offsets.items()})


@dataclass
class FirstBatchFailsLate:
    """The first batch fails like a lost database, after the second fetch; later batches succeed."""

    consumer: FakeConsumer
    group: str = "g"
    handled: list[int] = field(default_factory=list)
    calls: int = 0

    async def process(self, records: Sequence[Rec]) -> None:
        self.calls += 1
        if self.calls == 1:
            await self.consumer.second_fetch.wait()
            raise ConnectionResetError("database connection lost")
        self.handled.extend(r.offset for r in records)


async def test_records_fetched_before_a_rewind_never_run_ahead_of_it() -> None:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    no_database: Any = None  # the processor below never opens a session
    runner = ConsumerRunner("g", ["t"], {}, no_database, kafka, lanes=True, batch_max=CHUNK)
    consumer = FakeConsumer(size=2 * CHUNK)
    processor = FirstBatchFailsLate(consumer)
    runner.processor = processor  # type: ignore[assignment]

    loop = asyncio.create_task(runner._loop(consumer))
    try:
        await eventually(lambda: consumer.raced, timeout=5, message="the rewind never raced the fetch")
        await eventually(
            lambda: consumer.committed.get(PRIMARY) == 2 * CHUNK and consumer.pos[PRIMARY] == 2 * CHUNK,
            timeout=10,
            message="the partition was not consumed to its end",
        )
    finally:
        runner.stop()
        await asyncio.wait_for(loop, timeout=5)

    # Every record ran, once, in offset order: none was skipped behind the rewind point.
    assert processor.handled == list(range(2 * CHUNK))
