"""The consumer runner: every service's Kafka read loop (ARCHITECTURE.md "Reading").

Fetched records go to one worker task per partition (``_workers``): partitions run concurrently,
the records of one partition in order, each partition batch in one database transaction that also
inserts the inbox rows; offsets are committed after the transactions commit. Failing messages are retried, then dead-lettered; unparseable ones
are dead-lettered at once; unknown types are ignored. With ``lanes=True`` the runner also reads
``<topic>.bulk`` and lets it run only while the primary lane is idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_messaging import metrics
from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_messaging._workers import PartitionWorkers
from bookshelf_messaging.dlq import Failure, write_dead_letter
from bookshelf_messaging.errors import InfrastructureError, PermanentError
from bookshelf_messaging.handlers import (
    AnyHandler,
    BatchHandler,
    Handler,
    HandlerTable,
    UnitOfWorkFactory,
    bind_handlers,
)
from bookshelf_messaging.inbox import purge_inbox
from bookshelf_messaging.lanes import LaneController, lane_of, subscribed_topics
from bookshelf_messaging.policy import CONSUMER_BACKOFF, INFRASTRUCTURE_BACKOFF, MAX_RETRIES, RetryPolicy
from bookshelf_messaging.settings import KafkaSettings

__all__ = [
    "BatchHandler",
    "Consumer",
    "ConsumerRunner",
    "Handler",
    "PermanentError",
    "RetryPolicy",
    "runners",
]

log = structlog.get_logger("bookshelf.consumer")

FETCH_TIMEOUT_MS = 100  # how long one getmany waits for data: bounds stop() and lane reaction time
PURGE_EVERY_S = 3600.0
LAG_EVERY_S = 1.0
DLQ_MAX_REQUEST_BYTES = 16 * 2**20


@dataclass(frozen=True, slots=True)
class Consumer:
    """One consumer group of a service, declared: what it reads and what handles each message type.

    ``handlers`` is keyed by contract class (or type name); ``options`` go to ``ConsumerRunner``
    (``max_retries``, ``backoff_base_s``, ...).
    """

    group: str
    topics: Sequence[str]
    handlers: HandlerTable
    lanes: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


def runners(
    consumers: Sequence[Consumer],
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    *,
    uow: UnitOfWorkFactory | None,
    permanent: tuple[type[Exception], ...] = (),
) -> list[ConsumerRunner]:
    """A runner per declared consumer, each handler in a unit of work from ``uow`` (None: a service
    with batch handlers only, such as storefront's projections)."""
    return [
        ConsumerRunner(
            c.group,
            c.topics,
            c.handlers,
            session_factory,
            kafka,
            uow=uow,
            permanent=permanent,
            lanes=c.lanes,
            **c.options,
        )
        for c in consumers
    ]


class _RevokeListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Finishes and commits revoked partitions' batches before they move to another member."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        workers = self.runner._workers
        if workers is not None:
            await self.runner._drain(workers, revoked)
            workers.forget(revoked)
        self.runner._forget_lag(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


class ConsumerRunner:
    """Consumes topics for one consumer group and hands each message to its handler (see module doc).

    With ``uow`` (a unit-of-work factory over the runner's session), ``handlers`` is a service's table
    keyed by contract class of ``handler(message, uow)`` (``handlers.bind_handlers``; ``permanent``
    error types dead-letter at once); without it, ``{type name: Handler | BatchHandler}``.
    """

    def __init__(
        self,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[str, AnyHandler] | HandlerTable,
        session_factory: async_sessionmaker[AsyncSession],
        kafka: KafkaSettings,
        *,
        uow: UnitOfWorkFactory | None = None,
        permanent: tuple[type[Exception], ...] = (),
        lanes: bool = False,
        max_retries: int = MAX_RETRIES,
        backoff_base_s: float = CONSUMER_BACKOFF.base_s,
        backoff_max_s: float = CONSUMER_BACKOFF.max_s,
        batch_max: int = 500,
        client_id: str | None = None,
        inbox_retention: timedelta | None = timedelta(days=7),
    ) -> None:
        self.group_id = group_id
        self.topics = subscribed_topics(topics, lanes=lanes)
        self.lanes = lanes
        self.kafka = kafka
        self.batch_max = batch_max
        self.client_id = client_id or group_id
        self.inbox_retention = inbox_retention
        self.session_factory = session_factory
        table = (
            bind_handlers(cast(HandlerTable, handlers), uow, permanent)
            if uow is not None
            else cast(Mapping[str, AnyHandler], handlers)
        )
        self.processor = PartitionProcessor(
            group_id,
            table,
            session_factory,
            self._dead_letter,
            RetryPolicy(max_retries, backoff_base_s, backoff_max_s),
        )
        self._stop = asyncio.Event()
        self._running = False
        self._workers: PartitionWorkers | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._next_lag = 0.0

    @property
    def is_running(self) -> bool:
        """True while the consume loop runs (for ``/readyz``)."""
        return self._running

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member owns now (empty before the group join and after ``run()``)."""
        consumer = self._consumer
        return set(consumer.assignment()) if consumer is not None else set()

    def stop(self) -> None:
        """Finish the batch in progress, commit it and leave the group (``run()`` then returns)."""
        self._stop.set()

    async def run(self) -> None:
        """Consume until ``stop()``."""
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka_kwargs(),
            **self.kafka.consumer_kwargs(),
            group_id=self.group_id,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a new group reads the whole history
        )
        producer = AIOKafkaProducer(
            **self.kafka.aiokafka_kwargs(),
            acks="all",
            client_id=self.client_id,
            # The DLQ writer must be able to write whatever this consumer could read (aiokafka's 1 MiB
            # default made an oversized poison record block its partition forever).
            max_request_size=DLQ_MAX_REQUEST_BYTES,
        )
        consumer.subscribe(self.topics, listener=_RevokeListener(self))
        await producer.start()
        try:
            await consumer.start()
            self._consumer, self._producer = consumer, producer
            self._running = True
            log.info("consumer.started", group=self.group_id, topics=self.topics)
            purger = asyncio.create_task(self._purge_inbox_hourly())
            try:
                await self._loop(consumer)
            finally:
                purger.cancel()
        finally:
            self._running = False
            self._consumer = self._producer = None
            await consumer.stop()
            await producer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        workers = PartitionWorkers(
            consumer, self.processor, batch_max=self.batch_max, retry_after_s=INFRASTRUCTURE_BACKOFF.base_s
        )
        lanes = LaneController(consumer, self.group_id) if self.lanes else None
        self._workers = workers
        try:
            while not self._stop.is_set():
                throttled = bool(consumer.paused() - (lanes.paused if lanes else set()))
                # While partitions wait for their queues to drain, come back sooner to resume them.
                wait_ms = FETCH_TIMEOUT_MS // 5 if throttled else FETCH_TIMEOUT_MS
                mark = workers.rewind_mark()
                batches = await consumer.getmany(timeout_ms=wait_ms, max_records=self.batch_max * 4)
                if lanes is not None:
                    batches = await lanes.apply(batches, workers)  # awaits: workers may rewind meanwhile
                for tp, records in batches.items():
                    workers.dispatch(tp, records, fetched_after=mark)
                self._apply_pauses(consumer, workers.full() | (lanes.paused if lanes else set()))
                await workers.commit()
                await self._report_lag(consumer, workers)
        finally:
            await self._drain(workers)
            self._workers = None

    async def _drain(self, workers: PartitionWorkers, tps: Any = None) -> None:
        """Finish and commit ``tps`` (all by default), but never for longer than a session timeout.

        aiokafka retries a commit for as long as the broker answers with a retriable error. After an
        embedded-broker restart the group's coordinator answered "not available" for good, the revoke
        callback never returned, and the consumer never rejoined (fault suite, scenario 6). Giving up
        is safe: whoever owns the partitions next re-reads from the last commit, and the inbox skips
        what was already handled; batches cut short roll back.
        """
        deadline = self.kafka.session_timeout_ms / 1000
        try:
            await asyncio.wait_for(workers.drain(tps), deadline)
        except TimeoutError:
            log.warning("consumer.drain_timeout", group=self.group_id, seconds=deadline)

    @staticmethod
    def _apply_pauses(consumer: AIOKafkaConsumer, wanted: set[TopicPartition]) -> None:
        """Pause exactly ``wanted`` (backpressure and lanes) among the assigned partitions."""
        assigned = consumer.assignment()
        paused = consumer.paused()
        to_pause = (wanted & assigned) - paused
        to_resume = (paused - wanted) & assigned
        if to_pause:
            consumer.pause(*to_pause)
        if to_resume:
            consumer.resume(*to_resume)

    async def _purge_inbox_hourly(self) -> None:
        """Delete this group's inbox rows older than ``inbox_retention`` (first pass after an hour)."""
        if self.inbox_retention is None:
            return
        while True:
            await asyncio.sleep(PURGE_EVERY_S)
            try:
                async with self.session_factory() as session, session.begin():
                    deleted = await purge_inbox(session, self.group_id, older_than=self.inbox_retention)
                log.info("consumer.inbox_purged", group=self.group_id, rows=deleted)
            except Exception as exc:  # housekeeping must never stop consuming
                log.warning("consumer.inbox_purge_failed", group=self.group_id, error=repr(exc))

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], failure: Failure) -> str:
        producer = self._producer
        if producer is None:
            raise InfrastructureError("the runner is not started; no producer for the DLQ")
        letter = await write_dead_letter(producer, record, self.group_id, failure)
        error_type = letter_error_type(failure.error)
        metrics.DEAD_LETTERED.labels(self.group_id, record.topic, error_type).inc()
        log.warning(
            "consumer.dead_lettered",
            group=self.group_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            entry_id=letter.key,
            error_type=error_type,
            attempts=failure.attempts,
        )
        return letter.key

    async def _report_lag(self, consumer: AIOKafkaConsumer, workers: PartitionWorkers) -> None:
        """Lag = fetch high watermark - next offset to commit (never end offsets: EMBEDDED-INFRA.md)."""
        now = time.monotonic()
        if now < self._next_lag:
            return
        self._next_lag = now + LAG_EVERY_S
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            done = workers.processed(tp)
            position = done if done is not None else await consumer.position(tp)
            metrics.CONSUMER_LAG.labels(self.group_id, tp.topic, str(tp.partition), lane_of(tp.topic)).set(
                max(0, highwater - position)
            )

    def _forget_lag(self, revoked: Any) -> None:
        for tp in revoked:
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self.group_id, tp.topic, str(tp.partition), lane_of(tp.topic))


def letter_error_type(error: BaseException) -> str:
    """The short exception class name used as a metric label."""
    return type(error).__name__
