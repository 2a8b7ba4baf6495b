"""Per-partition workers: each partition's records run in order on its own task.

The fetch loop hands records to a queue per partition and moves on; a partition's worker takes up to
``batch_max`` records at a time (one database transaction each, see ``_processing``) and records the
next offset to commit. Partitions never wait for each other, so a slow or retrying partition does not
stall the rest and no core idles behind the slowest batch of a fetch.

A full queue pauses its partition (backpressure). An infrastructure failure rewinds the partition to
the first unfinished record and waits (``policy.INFRASTRUCTURE_BACKOFF`` from ``retry_after_s``:
doubling per consecutive failure, capped, jittered) for as long as the database or broker is away (no
message is to blame, so none is dead-lettered). The wait is visible: ``bookshelf_consumer_infrastructure_errors_total`` counts the
failures, ``bookshelf_consumer_infrastructure_stalled`` is 1 while the partition waits, and a wait
longer than ``STALL_ALERT_S`` is logged as an error. Offsets are committed by the fetch loop (at most
every ``COMMIT_EVERY_S``), on rebalance and on stop, only for records whose transaction committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from bookshelf_messaging import metrics
from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_messaging.policy import INFRASTRUCTURE_BACKOFF, Backoff

log = structlog.get_logger("bookshelf.consumer")

Record: TypeAlias = ConsumerRecord[Any, Any]
COMMIT_EVERY_S = 0.05
STALL_ALERT_S = 60.0  # a partition waiting this long is logged as an error


@dataclass
class PartitionState:
    """Queue and offsets of one assigned partition."""

    queue: deque[Record] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    in_flight: int = 0  # records of the batch being handled now
    expected: int | None = None  # records below this offset were already queued (or rewound past)
    rewound_at: int = 0  # the workers' rewind count when this partition was last rewound
    processed: int | None = None  # next offset to commit: everything below it is committed in the DB
    committed: int | None = None  # last offset committed to Kafka
    infra_failures: int = 0  # consecutive infrastructure failures of this partition's batches
    stalled_since: float | None = None  # monotonic time of the first of them
    alerted: bool = False

    @property
    def pending(self) -> int:
        """Records queued or being handled."""
        return len(self.queue) + self.in_flight


class PartitionWorkers:
    """Queues, worker tasks and offsets of the partitions one consumer owns."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        processor: PartitionProcessor,
        *,
        batch_max: int,
        retry_after_s: float,
    ) -> None:
        self.consumer = consumer
        self.processor = processor
        self.batch_max = batch_max
        self.retry_after_s = retry_after_s
        self.parts: dict[TopicPartition, PartitionState] = {}
        self._last_commit = 0.0
        self._rewinds = 0  # rewinds so far: the fetch loop's mark for ``dispatch``

    def rewind_mark(self) -> int:
        """A mark to take before a fetch and hand to ``dispatch`` with the fetched records."""
        return self._rewinds

    # --- feeding ------------------------------------------------------------------------------------
    def dispatch(self, tp: TopicPartition, records: list[Record], fetched_after: int | None = None) -> None:
        """Queue fetched records (dropping any below a rewind point) and make sure a worker runs.

        ``fetched_after`` is the ``rewind_mark()`` taken before the fetch. A batch of a partition
        rewound since then that starts beyond the rewind point is refused: the fetch loop awaited
        something between its fetch and this call (the lanes read positions), a failed batch rewound
        the partition meanwhile, and these records lie past the rewound ones. Queued, they would run
        first and their offsets would be committed over the rewound records. Refused, the partition is
        sought back to the rewind point and they are fetched again in order.
        """
        part = self.parts.setdefault(tp, PartitionState())
        if part.expected is not None and records:
            if records[0].offset < part.expected:
                records = [r for r in records if r.offset >= part.expected]
            elif (
                records[0].offset > part.expected
                and fetched_after is not None
                and part.rewound_at > fetched_after
            ):
                self._refuse(tp, part, records)
                return
        if not records:
            return
        part.queue.extend(records)
        part.expected = records[-1].offset + 1
        if part.task is None or part.task.done():
            part.task = asyncio.create_task(self._work(tp, part), name=f"consume-{tp.topic}-{tp.partition}")

    def _refuse(self, tp: TopicPartition, part: PartitionState, records: list[Record]) -> None:
        metrics.STALE_FETCHES_REFUSED.labels(self.processor.group, tp.topic).inc()
        log.info(
            "consumer.stale_fetch_refused",
            group=self.processor.group,
            tp=f"{tp.topic}[{tp.partition}]",
            rewound_to=part.expected,
            first_offset=records[0].offset,
            records=len(records),
        )
        with contextlib.suppress(IllegalStateError):  # revoked meanwhile: the new owner starts over
            self.consumer.seek(tp, part.expected)

    def rewind(self, tp: TopicPartition, fetched: list[Record] | None = None) -> None:
        """Give queued (and just fetched) records back to the broker: they are fetched again later."""
        part = self.parts.setdefault(tp, PartitionState())
        heads = [r[0].offset for r in (part.queue, fetched) if r]
        if heads:
            self._rewind_to(tp, part, min(heads))

    def _rewind_to(self, tp: TopicPartition, part: PartitionState, offset: int) -> None:
        self._rewinds += 1
        part.rewound_at = self._rewinds
        part.queue.clear()
        part.expected = offset
        with contextlib.suppress(IllegalStateError):  # revoked meanwhile: the new owner starts over
            self.consumer.seek(tp, offset)

    def pending(self, tps: Iterable[TopicPartition]) -> int:
        """Records queued or in flight for these partitions."""
        return sum(self.parts[tp].pending for tp in tps if tp in self.parts)

    def full(self) -> set[TopicPartition]:
        """Partitions whose queue is long enough to pause fetching (resumed below ``batch_max``)."""
        paused = self.consumer.paused()
        full = set()
        for tp, part in self.parts.items():
            limit = self.batch_max if tp in paused else 2 * self.batch_max
            if len(part.queue) >= limit:
                full.add(tp)
        return full

    def processed(self, tp: TopicPartition) -> int | None:
        """Next offset to commit for ``tp`` (None before its first batch)."""
        part = self.parts.get(tp)
        return part.processed if part else None

    # --- the worker ---------------------------------------------------------------------------------
    async def _work(self, tp: TopicPartition, part: PartitionState) -> None:
        while part.queue:
            size = min(len(part.queue), self.batch_max)
            batch = [part.queue.popleft() for _ in range(size)]
            part.in_flight = size
            try:
                await self.processor.process(batch)
            except Exception as exc:  # the processor only raises for infrastructure failures
                delay = self._stalled(tp, part, exc)
                self._rewind_to(tp, part, batch[0].offset)
                part.in_flight = 0
                await asyncio.sleep(delay)  # backoff while the database/broker recovers
                continue
            part.in_flight = 0
            part.processed = batch[-1].offset + 1
            if part.stalled_since is not None:
                self._recovered(tp, part)

    def _stalled(self, tp: TopicPartition, part: PartitionState, exc: Exception) -> float:
        """Count an infrastructure failure of ``tp``; returns how long to wait before the next try."""
        group = self.processor.group
        now = time.monotonic()
        part.infra_failures += 1
        if part.stalled_since is None:
            part.stalled_since = now
        waited = now - part.stalled_since
        metrics.INFRASTRUCTURE_ERRORS.labels(group, tp.topic, type(exc).__name__).inc()
        metrics.INFRASTRUCTURE_STALLED.labels(group, tp.topic, str(tp.partition)).set(1)
        delay = Backoff(self.retry_after_s, INFRASTRUCTURE_BACKOFF.max_s).delay(part.infra_failures)
        fields = {"tp": f"{tp.topic}[{tp.partition}]", "error": repr(exc), "waited_s": round(waited, 1)}
        if waited >= STALL_ALERT_S and not part.alerted:
            part.alerted = True
            log.error("consumer.infrastructure_unavailable", group=group, **fields)
        else:
            log.warning("consumer.batch_failed", retry_in_s=delay, **fields)
        return delay

    def _recovered(self, tp: TopicPartition, part: PartitionState) -> None:
        waited = time.monotonic() - (part.stalled_since or time.monotonic())
        log.info("consumer.infrastructure_back", tp=f"{tp.topic}[{tp.partition}]", waited_s=round(waited, 1))
        part.infra_failures, part.stalled_since, part.alerted = 0, None, False
        metrics.INFRASTRUCTURE_STALLED.labels(self.processor.group, tp.topic, str(tp.partition)).set(0)

    # --- offsets ------------------------------------------------------------------------------------
    async def commit(self, *, force: bool = False) -> None:
        """Commit processed offsets that moved (rate-limited unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._last_commit < COMMIT_EVERY_S:
            return
        self._last_commit = now
        offsets = {
            tp: part.processed
            for tp, part in self.parts.items()
            if part.processed is not None and part.processed != part.committed
        }
        if not offsets:
            return
        try:
            await self.consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in offsets.items()})
        except KafkaError as exc:
            # Partitions moved to another member: it re-reads from the last commit and its inbox check
            # skips what we handled.
            log.warning("consumer.commit_failed", error=repr(exc))
            return
        for tp, off in offsets.items():
            if tp in self.parts:
                self.parts[tp].committed = off

    async def drain(self, tps: Iterable[TopicPartition] | None = None) -> None:
        """Drop queued records, let batches in flight finish, commit (stop and rebalance)."""
        targets = [tp for tp in (self.parts if tps is None else tps) if tp in self.parts]
        for tp in targets:
            self.parts[tp].queue.clear()
        tasks = [t for tp in targets if (t := self.parts[tp].task) is not None and not t.done()]
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.commit(force=True)

    def forget(self, tps: Iterable[TopicPartition]) -> None:
        """Drop the state of partitions this consumer no longer owns."""
        for tp in tps:
            self.parts.pop(tp, None)
            with contextlib.suppress(KeyError):  # its new owner reports whether it still waits
                metrics.INFRASTRUCTURE_STALLED.remove(self.processor.group, tp.topic, str(tp.partition))
