"""Reads topics from given positions up to the high watermarks seen when reading started.

Used by ``projections rebuild``: a fresh consumer (no consumer group, so nothing is committed and no
live group is disturbed) assigned every partition of the topics. The target of each partition is the
fetch high watermark of the first fetch answer for it; since the consumer is created when the phase
starts, every record that existed then is below the target. (The fetch high watermark, not
ListOffsets: end offsets were wrong on the memory-only broker Bookshelf used to embed,
docs/adr/0001-kafka-broker-per-mode.md.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from bookshelf_messaging import KafkaSettings
from bookshelf_messaging.admin import partition_counts

Record: TypeAlias = ConsumerRecord[Any, Any]
Positions = dict[TopicPartition, int]
FETCH_TIMEOUT_MS = 200


class TopicReader:
    """Every partition of ``topics``, from ``start`` positions (default: the beginning) to the targets."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topics: Sequence[str],
        *,
        start: Positions | None = None,
        batch_max: int = 1000,
        client_id: str = "storefront-rebuild",
    ) -> None:
        self.kafka = kafka
        self.topics = list(topics)
        self.start = dict(start or {})
        self.batch_max = batch_max
        self.client_id = client_id
        self.targets: Positions = {}
        self.partitions: list[TopicPartition] = []
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> TopicReader:
        counts = await partition_counts(self.kafka, self.topics)
        missing = [t for t, count in counts.items() if not count]
        if missing:
            raise LookupError(f"topics not found on {self.kafka.bootstrap_servers}: {', '.join(missing)}")
        self.partitions = [TopicPartition(t, p) for t in self.topics for p in range(counts[t])]
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka_kwargs(),
            group_id=None,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=max(self.kafka.fetch_max_wait_ms, 50),
            max_partition_fetch_bytes=4 * 2**20,
        )
        await consumer.start()
        self._consumer = consumer
        consumer.assign(self.partitions)
        for tp in self.partitions:
            if tp in self.start:
                consumer.seek(tp, self.start[tp])
            else:
                await consumer.seek_to_beginning(tp)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    @property
    def consumer(self) -> AIOKafkaConsumer:
        """The started consumer."""
        if self._consumer is None:
            raise RuntimeError("TopicReader is not started (use 'async with')")
        return self._consumer

    def _capture_targets(self) -> None:
        for tp in self.partitions:
            if tp not in self.targets:
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    self.targets[tp] = highwater

    async def positions(self) -> Positions:
        """The next offset to read of every partition."""
        return {tp: int(await self.consumer.position(tp)) for tp in self.partitions}

    async def remaining(self) -> int | None:
        """Records left below the targets, or None while some target is unknown."""
        if len(self.targets) < len(self.partitions):
            return None
        positions = await self.positions()
        return sum(max(0, self.targets[tp] - positions[tp]) for tp in self.partitions)

    async def batches(self) -> AsyncIterator[list[Record]]:
        """Batches of records (each partition's in order) until every partition reached its target."""
        while True:
            fetched = await self.consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS, max_records=self.batch_max)
            self._capture_targets()
            records = [record for tp in sorted(fetched) for record in fetched[tp]]
            if records:
                yield records
            if await self.remaining() == 0:
                return
