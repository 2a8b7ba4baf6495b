"""The faust app of the saga: the ``fulfillments`` table, one agent over the co-partitioned inputs,
and the deadline timer.

Table writes only happen in the agent (faust writes a table's changelog to the partition of the event
being processed). So the timer never changes an instance: it produces ``DeadlinePassed`` to
``fulfillment.deadlines`` (keyed by order_id, co-partitioned with the inputs) and the agent handles it
like any other event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import faust
import structlog
from aiokafka.errors import KafkaError
from bookshelf_messaging import KafkaSettings
from bookshelf_messaging.consumer import DLQ_MAX_REQUEST_BYTES

from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.adapters.dead_letters import (
    ConsumedRecord,
    dead_letter_record,
    normalise_headers,
    too_large,
)
from bookshelf_fulfillment.adapters.deadlines import DeadlineIndex
from bookshelf_fulfillment.adapters.kafka import (
    SAGA_INPUTS,
    SagaApp,
    SagaTableManager,
    TopicSender,
    broker_credentials,
    broker_urls,
)
from bookshelf_fulfillment.adapters.records import InvalidRecord, deadline_record, parse_record
from bookshelf_fulfillment.config import FulfillmentSettings
from bookshelf_fulfillment.domain.messages import DEADLINES_TOPIC, Incoming
from bookshelf_fulfillment.domain.state import SagaState
from bookshelf_fulfillment.entrypoints.web import correlation_middleware
from bookshelf_fulfillment.service_layer.processor import SagaProcessor, utc_now

log = structlog.get_logger("bookshelf.fulfillment")
MAX_ATTEMPTS = 4  # a message that keeps failing for a reason other than the broker is dead-lettered
RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


def build_app(settings: FulfillmentSettings, kafka: KafkaSettings) -> faust.App:
    """The faust app: at-least-once, the services' group timing, raw bytes in and out."""
    session_s = kafka.session_timeout_ms / 1000
    return SagaApp(
        settings.app_id,
        broker=broker_urls(kafka),
        broker_credentials=broker_credentials(kafka),
        store="memory://",
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        topic_partitions=6,
        broker_session_timeout=session_s,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        broker_rebalance_timeout=session_s,
        producer_acks=-1,
        # Dead letters carry the original value: whatever the worker could read, it must be able to
        # write (faust's 1 MB default crashed the agent on an oversized poison record).
        producer_max_request_size=DLQ_MAX_REQUEST_BYTES,
        key_serializer="raw",
        value_serializer="raw",
        TableManager=SagaTableManager,
        table_standby_replicas=0,  # memory:// tables keep no standby copy worth its cost
        autodiscover=False,
        web_enabled=True,
        web_port=settings.port,
        web_bind=settings.host,
        web_host=settings.canonical_host,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_tables_enabled=False,
        web_application_options={"middlewares": [correlation_middleware]},
    )


class TableStore:
    """``StateStore`` over the faust table (values are SagaState JSON)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str) -> SagaState | None:
        """The instance of ``key``, or None."""
        raw = self.table.get(key.encode())
        return SagaState.from_json(raw) if raw is not None else None

    def put(self, key: str, state: SagaState) -> None:
        """Write ``state`` (and so its changelog record, in the current event's partition)."""
        self.table[key.encode()] = state.to_json()

    def items(self) -> Iterator[tuple[str, SagaState]]:
        """Every (key, instance) held by this worker."""
        return ((key.decode(), SagaState.from_json(raw)) for key, raw in list(self.table.items()))


class SagaWorker:
    """The app and everything it runs."""

    def __init__(self, settings: FulfillmentSettings, kafka: KafkaSettings, partitions: int) -> None:
        self.settings = settings
        self.app = build_app(settings, kafka)
        # bytes keys and values: faust's "raw" codec. A str key_type would make faust json-encode keys
        # ('"<uuid>"'), and the router would then hash a different key than the records carry.
        self.table = self.app.Table("fulfillments", key_type=bytes, value_type=bytes, partitions=partitions)
        self.store = TableStore(self.table)
        self.inputs = self.app.topic(*SAGA_INPUTS, DEADLINES_TOPIC, partitions=partitions, **RAW)
        self.sender = TopicSender(self.app)
        self.deadlines = DeadlineIndex(settings.deadline_resend_s)
        self.processor = SagaProcessor(self.store, self.sender, self.deadlines, timeout=settings.timeout)
        self._indexed: tuple[int, float] = (-1, 0.0)
        self.app.agent(self.inputs, name="fulfillment.saga-agent")(self.run_agent)
        self.app.timer(settings.deadline_check_interval_s, name="fulfillment.deadline-timer")(
            self.check_deadlines
        )

    @property
    def recovered(self) -> bool:
        """Whether the first table recovery finished (faust sets this event once, never clears it)."""
        recovery = self.app.tables.recovery  # type: ignore[attr-defined]
        return bool(recovery.completed.is_set())

    @property
    def ready(self) -> bool:
        """Started, table recovered, not rebalancing, not stopping."""
        app = self.app
        return bool(app.started and self.recovered and not app.rebalancing and not app.should_stop)

    async def run_agent(self, stream: Any) -> None:
        """The agent: every event of the inputs, one at a time per worker (per-order order kept)."""
        async for event in stream.events():
            # Shielded: a cancellation (rebalance, shutdown) must not cut between send and table write.
            await asyncio.shield(self.on_event(event))

    async def on_event(self, event: Any) -> None:
        """Parse, then handle with retries; unreadable or poison records go to the topic's DLQ."""
        message = event.message
        try:
            incoming = parse_record(message.topic, event.value)
        except InvalidRecord as exc:
            await self._dead_letter(message, exc, 1, datetime.now(UTC))
            return
        if incoming is not None:
            await self._handle_with_retries(message, incoming)

    async def _handle_with_retries(self, message: Any, incoming: Incoming) -> None:
        first_failed_at: datetime | None = None
        failures = 0
        while True:
            try:
                await self.processor.handle(incoming)
                return
            except (KafkaError, OSError, TimeoutError) as exc:  # the broker: retry, never blame the message
                failures += 1
                log.warning(
                    "saga.send_failed", error=repr(exc), attempt=failures, order_id=str(incoming.order_id)
                )
            except Exception as exc:
                failures += 1
                first_failed_at = first_failed_at or datetime.now(UTC)
                log.exception("saga.handler_failed", attempt=failures, order_id=str(incoming.order_id))
                if failures >= MAX_ATTEMPTS:
                    await self._dead_letter(message, exc, failures, first_failed_at)
                    return
            await asyncio.sleep(min(5.0, 0.1 * 2**failures))

    async def _dead_letter(self, message: Any, error: BaseException, attempts: int, first: datetime) -> None:
        metrics.INVALID_RECORDS.labels(message.topic).inc()
        log.error("saga.dead_letter", topic=message.topic, offset=message.offset, error=str(error)[:500])
        if message.value is None:
            return  # a tombstone carries nothing to replay
        record = ConsumedRecord(
            message.topic,
            message.partition,
            message.offset,
            message.key,
            message.value,
            normalise_headers(message.headers),
        )
        group, now = self.settings.app_id, datetime.now(UTC)
        try:
            await self.sender.send_all([dead_letter_record(record, group, error, attempts, first, now)])
        except Exception as exc:  # a record the broker refuses whole: a trace, not a crashed agent
            if not too_large(exc):
                raise
            letter = dead_letter_record(record, group, error, attempts, first, now, truncate=True)
            await self.sender.send_all([letter])

    async def check_deadlines(self) -> None:
        """Timer: emit DeadlinePassed for every due instance this worker holds."""
        if not self.ready:
            return
        try:
            self._refresh_index()
            now = utc_now()
            for key in self.deadlines.due(now, time.monotonic()):
                instance = self.store.get(key)
                if instance is None or instance.deadline is None or instance.deadline > now:
                    self.deadlines.track(key, instance)
                    continue
                await self.sender.send_all([deadline_record(instance, now)])
                metrics.DEADLINES_EMITTED.inc()
            metrics.PENDING_DEADLINES.set(len(self.deadlines))
        except Exception:
            log.exception("saga.deadline_timer_failed")

    def _refresh_index(self) -> None:
        """Rebuild the deadline index from the table after a rebalance, and every ``index_rescan_s``."""
        generation, scanned_at = self._indexed
        clock = time.monotonic()
        if generation == self.app.rebalancing_count and clock - scanned_at < self.settings.index_rescan_s:
            return
        self.deadlines.rebuild(self.store.items())
        self._indexed = (self.app.rebalancing_count, clock)
