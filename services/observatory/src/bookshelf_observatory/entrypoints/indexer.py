"""The indexer: reads every topic (group ``observatory.indexer``) and writes each record's metadata.

No consumer runner, no inbox: indexing is an idempotent upsert by (topic, partition, offset), so a
batch of any size is one statement and a redelivered batch changes nothing. Offsets are committed
after the batch's transaction commits; a failed batch is re-read from its first offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from bookshelf_messaging import KafkaSettings
from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_observatory import metrics
from bookshelf_observatory.adapters.index_writer import forget_beyond, write_batch, write_watermarks
from bookshelf_observatory.config import TOPIC_PATTERN
from bookshelf_observatory.domain.records import Parsed, parse_record

log = structlog.get_logger("bookshelf.observatory.indexer")

Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
WATERMARKS_EVERY_S = 1.0
RETRY_AFTER_S = 1.0
METADATA_MAX_AGE_MS = 10_000  # how soon a new topic matching the pattern is indexed


def parse(record: ConsumerRecord[bytes, bytes]) -> Parsed:
    """The index contribution of one consumed record."""
    return parse_record(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        list(record.headers or ()),
        record.timestamp,
    )


class Indexer:
    """Consumes every topic and indexes it (see module doc)."""

    def __init__(
        self,
        engine: AsyncEngine,
        kafka: KafkaSettings,
        *,
        group_id: str,
        topics: Sequence[str] | None = None,
        pattern: str = TOPIC_PATTERN,
        fetch_wait_ms: int = 100,
        batch_max: int = 1000,
    ) -> None:
        self.engine = engine
        self.kafka = kafka
        self.group_id = group_id
        self.topics = list(topics) if topics is not None else None
        self.pattern = pattern
        self.fetch_wait_ms = fetch_wait_ms
        self.batch_max = batch_max
        self._stop = asyncio.Event()
        self._running = False
        self._next_watermarks = 0.0
        self._checked: set[tuple[str, int]] = set()  # partitions checked for a broker that started empty
        self._written: dict[tuple[str, int], int] = {}  # watermarks as last stored (write only changes)
        self._positions: dict[tuple[str, int], int] = {}  # next offset to index, per partition

    @property
    def is_running(self) -> bool:
        """True while the consume loop runs (for ``/readyz``)."""
        return self._running

    def stop(self) -> None:
        """Finish the batch in progress and leave the group."""
        self._stop.set()

    async def run(self) -> None:
        """Index until ``stop()``."""
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka_kwargs(),
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a new indexer reads the whole history
            fetch_max_wait_ms=self.fetch_wait_ms,
            session_timeout_ms=self.kafka.session_timeout_ms,
            heartbeat_interval_ms=self.kafka.heartbeat_interval_ms,
            max_poll_records=self.batch_max,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        if self.topics is not None:
            consumer.subscribe(self.topics)
        else:
            consumer.subscribe(pattern=self.pattern)
        await consumer.start()
        self._running = True
        log.info("indexer.started", group=self.group_id, topics=self.topics or self.pattern)
        try:
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_max)
                if batches and not await self._index(consumer, batches):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), RETRY_AFTER_S)
                await self._watermarks(consumer)
        finally:
            self._running = False
            await consumer.stop()

    async def _index(self, consumer: AIOKafkaConsumer, batches: Batches) -> bool:
        """Write one fetch to the index and commit its offsets; False (and seek back) when it failed."""
        parsed = [parse(record) for records in batches.values() for record in records]
        try:
            async with self.engine.begin() as conn:
                await write_batch(conn, parsed)
        except Exception as exc:  # the database is away: keep the offsets, try again
            metrics.INDEX_FAILURES.labels(type(exc).__name__).inc()
            log.warning("indexer.batch_failed", error=repr(exc), records=len(parsed))
            for tp, records in batches.items():
                consumer.seek(tp, records[0].offset)
            return False
        metrics.INDEX_BATCH.observe(len(parsed))
        for tp, records in batches.items():
            metrics.INDEXED.labels(tp.topic).inc(len(records))
        offsets = {tp: OffsetAndMetadata(records[-1].offset + 1, "") for tp, records in batches.items()}
        self._positions |= {(tp.topic, tp.partition): o.offset for tp, o in offsets.items()}
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # Partitions moved during the batch: the new owner re-reads them; the upsert absorbs it.
            log.warning("indexer.commit_failed", error=repr(exc))
        return True

    async def _watermarks(self, consumer: AIOKafkaConsumer) -> None:
        """Every second: store the assigned partitions' fetch high watermarks (for lag) when they changed."""
        now = time.monotonic()
        if now < self._next_watermarks:
            return
        self._next_watermarks = now + WATERMARKS_EVERY_S
        highs: dict[tuple[str, int], int] = {}
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                highs[(tp.topic, tp.partition)] = high
        self._report_lag(highs)
        unchecked = {tp: high for tp, high in highs.items() if tp not in self._checked}
        changed = {tp: high for tp, high in highs.items() if self._written.get(tp) != high}
        if not changed and not unchecked:
            return
        try:
            async with self.engine.begin() as conn:
                await forget_beyond(conn, unchecked)
                await write_watermarks(conn, changed)
        except Exception as exc:
            log.warning("indexer.watermarks_failed", error=repr(exc))
            return
        self._checked |= set(unchecked)
        self._written |= changed

    def _report_lag(self, highs: dict[tuple[str, int], int]) -> None:
        """Index lag per topic: watermark - next offset to index (partitions indexed at least once)."""
        lag: dict[str, int] = {}
        for tp, high in highs.items():
            if tp in self._positions:
                lag[tp[0]] = lag.get(tp[0], 0) + max(0, high - self._positions[tp])
        for topic, behind in lag.items():
            metrics.INDEX_LAG.labels(topic).set(behind)
