"""faust plumbing: the app class (fetch wait, rewinds, recovery order, clamped commits), topics.

faust's aiokafka driver hard-codes ``fetch_max_wait_ms=1500`` for the worker's consumer; ``SagaApp``
swaps in a transport whose consumer waits ``FULFILLMENT_FETCH_MAX_WAIT_MS`` (100 ms) instead, the same
wait as every other consumer. Kafka answers a waiting fetch as soon as a record arrives, so the wait
costs no latency; it bounds how long a paused partition waits to be fetched again.

``SagaApp`` also fixes the order of faust's end of table recovery (``_SagaRecovery``), which lost the
records that arrived while a worker was down, makes skipped offsets visible, and commits an input
partition's offset only up to what was handled in committed transactions (``_Consumer``,
``adapters/progress.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import faust
import structlog
from bookshelf_contracts import (
    INVENTORY_COMMANDS,
    ORDERING_COMMANDS,
    SAGA_INPUT_TOPICS,
    SHIPPING_COMMANDS,
    TOPICS,
)
from bookshelf_messaging import KafkaSettings
from bookshelf_messaging.admin import create_topics_sync, topic_plan
from confluent_kafka.admin import AdminClient
from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.transport.drivers import aiokafka as faust_aiokafka

from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.adapters.progress import OffsetProgress

log = structlog.get_logger("bookshelf.fulfillment")

COMMAND_TOPICS = (INVENTORY_COMMANDS, ORDERING_COMMANDS, SHIPPING_COMMANDS)


class PartitioningError(RuntimeError):
    """The saga's inputs are not co-partitioned (different partition counts)."""


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    fetch_max_wait_ms: ClassVar[int] = 1500
    rewind_topics: ClassVar[frozenset[str]] = frozenset()
    progress: ClassVar[OffsetProgress] = OffsetProgress()

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read when the consumer starts
        return consumer

    async def seek_to_committed(self) -> Mapping[Any, int]:
        """Seek to committed offsets, rewind input partitions that have none to the beginning, and
        tell the offset progress where each input partition is read from next.

        faust drops records it fetched while its flow was stopped or their partition paused (startup,
        rebalance) and re-reads them by seeking to the committed offsets. aiokafka's seek skips
        partitions without a committed offset (None or 0), so their dropped records were lost: a
        worker restarted after a crash never saw messages that reached a partition it had not committed
        on yet. Rewinding those partitions re-reads them; the inbox absorbs the repeats.
        """
        committed = await super().seek_to_committed()
        inputs = {tp: offset for tp, offset in committed.items() if tp.topic in self.rewind_topics}
        never = [tp for tp, offset in inputs.items() if not offset]
        starts: Mapping[Any, int] = {}
        if never:
            log.info(
                "kafka.rewind_uncommitted", partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in never)
            )
            await self.seek_to_beginning(*never)
            starts = await self.earliest_offsets(*never)
        for tp, offset in inputs.items():
            start = offset if offset else starts.get(tp)
            if start is not None:
                self.progress.sought(tp, start, committed=offset or None)
        return committed


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _commit(self, offsets: Mapping[Any, int]) -> bool:
        """Commit input offsets only up to what was handled in committed transactions (``progress``)."""
        progress = _ConsumerThread.progress
        inputs = {tp: o for tp, o in offsets.items() if tp.topic in _ConsumerThread.rewind_topics}
        others = {tp: o for tp, o in offsets.items() if tp not in inputs}
        allowed = {**others, **progress.clamp(inputs)}
        if not allowed:
            return False
        committed = await super()._commit(allowed)
        if committed:
            progress.mark_committed(allowed)
        return bool(committed)

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        await super().on_partitions_revoked(revoked)
        _ConsumerThread.progress.forget(revoked)

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        """faust saw a jump in a partition's offsets and would commit over it: say so, loudly.

        faust treats a jump as a gap left by compaction or transaction markers and commits past it.
        The saga's inputs have neither, so on them a jump means records that were not handled; the
        offset progress holds the commit back until they are (the watchdog re-reads them).
        """
        if tp.topic in _ConsumerThread.rewind_topics:
            metrics.OFFSET_GAPS.labels(tp.topic).inc()
            log.warning(
                "kafka.offset_gap",
                partition=f"{tp.topic}/{tp.partition}",
                first=offset_from,
                last=offset_to - 1,
            )
        await super()._add_gap(tp, offset_from, offset_to)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class _SagaRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        """Stop the flow before faust resumes the inputs and seeks them to their committed offsets.

        faust resumes the flow to read the changelogs and leaves it running; at the end it resumes the
        input partitions, seeks them to their committed offsets and only then resumes flow control,
        which empties the agents' buffers. Records fetched during the seek (a backlog that arrived
        while the worker was down) were put in those buffers, emptied, and never fetched again; faust
        then committed over the jump (``_add_gap``), so the orders they carried never got a saga.
        With the flow stopped first, nothing is buffered until the seek is done.
        """
        self.app.consumer.stop_flow()
        self.app.flow_control.suspend()
        await super().on_recovery_completed(generation_id)


class SagaTableManager(TableManager):
    """``TableManager`` whose recovery stops the flow before the final seek (``_SagaRecovery``)."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = _SagaRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


class SagaApp(faust.App):
    """``faust.App`` whose consumer uses a short fetch wait (see the module docstring)."""

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self, loop=self.loop)


def configure_consumer(
    *, fetch_max_wait_ms: int, rewind_topics: Sequence[str], progress: OffsetProgress
) -> None:
    """Fetch wait, input topics and offset progress of every worker consumer created from now on."""
    _ConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
    _ConsumerThread.rewind_topics = frozenset(rewind_topics)
    _ConsumerThread.progress = progress


async def commit_progress(app: faust.App) -> None:
    """Commit every input partition's handled offsets that moved (the periodic committer)."""
    due = _ConsumerThread.progress.due()
    if not due or not app.consumer.assignment():
        return
    assigned = {(tp.topic, tp.partition): tp for tp in app.consumer.assignment()}
    offsets = {assigned[key]: offset for key, offset in due.items() if key in assigned}
    if offsets:
        consumer: Any = app.consumer  # the transport's _Consumer: the clamped commit
        await consumer._commit(offsets)


def broker_urls(kafka: KafkaSettings) -> list[str]:
    """``KAFKA_BOOTSTRAP_SERVERS`` as faust broker URLs."""
    return [f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(",") if server.strip()]


def broker_credentials(kafka: KafkaSettings) -> Any:
    """faust credentials for ``KAFKA_SECURITY_PROTOCOL`` and friends (None for PLAINTEXT)."""
    ssl_context = kafka.aiokafka_kwargs().get("ssl_context")
    if kafka.uses_sasl:
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password is not None else None
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=password,
            mechanism=(kafka.sasl_mechanism or "PLAIN").upper(),
            ssl_context=ssl_context,
        )
    if ssl_context is not None:
        return faust.SSLCredentials(ssl_context)
    return None


def ensure_saga_topics(kafka: KafkaSettings) -> int:
    """Create the saga's topics if missing; return the inputs' (common) partition count.

    The worker may start before `bookshelf run` or a deploy Job created them; a topic that exists is
    left as it is. Raises PartitioningError when the inputs' partition counts differ.
    """
    specs = [spec for spec in TOPICS if spec.name in (*SAGA_INPUT_TOPICS, *COMMAND_TOPICS)]
    create_topics_sync(kafka, topic_plan(specs))
    counts = partition_counts(kafka, list(SAGA_INPUT_TOPICS))
    if len(set(counts.values())) != 1:
        raise PartitioningError(
            f"the saga's inputs must have equal partition counts (co-partitioned by order_id), got {counts}"
        )
    return next(iter(counts.values()))


def partition_counts(kafka: KafkaSettings, topics: Sequence[str]) -> dict[str, int]:
    """Partition count of each topic (0 when the topic does not exist)."""
    metadata = AdminClient(kafka.confluent_config()).list_topics(timeout=30)
    return {name: len(metadata.topics[name].partitions) if name in metadata.topics else 0 for name in topics}
