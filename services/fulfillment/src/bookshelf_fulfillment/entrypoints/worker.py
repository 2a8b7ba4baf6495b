"""The faust app of the saga and everything it runs: the agent over the co-partitioned inputs, the
deadline timer, the stall watchdog, the offset committer and the outbox relay.

The saga's state is in PostgreSQL (``adapters/repository.py``); faust only consumes. The agent hands
batches to the consumer policy every Bookshelf service shares (``entrypoints/agent.py``), the timer
runs the timeout step for instances it claims with ``SKIP LOCKED``, and the relay publishes the
commands the steps wrote to the outbox (one relay per database is active: several workers can run).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import faust
import sqlalchemy as sa
import structlog
from bookshelf_contracts import SAGA_INPUT_TOPICS, topic_spec
from bookshelf_messaging import (
    KafkaSettings,
    Outbox,
    OutboxRelay,
    RetryPolicy,
    create_engine,
    create_session_factory,
)
from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_servicekit.telemetry import shutdown_tracing

from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.adapters import queries, repository
from bookshelf_fulfillment.adapters.dead_letters import DeadLetterWriter
from bookshelf_fulfillment.adapters.kafka import (
    SagaApp,
    SagaTableManager,
    broker_credentials,
    broker_urls,
    commit_progress,
)
from bookshelf_fulfillment.adapters.progress import OffsetProgress
from bookshelf_fulfillment.adapters.watchdog import StallWatchdog
from bookshelf_fulfillment.config import SERVICE, FulfillmentSettings
from bookshelf_fulfillment.entrypoints.agent import SagaAgent
from bookshelf_fulfillment.entrypoints.web import correlation_middleware
from bookshelf_fulfillment.service_layer.steps import SagaSteps

log = structlog.get_logger("bookshelf.fulfillment")
COMMIT_EVERY_S = 0.5
RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


def build_app(settings: FulfillmentSettings, kafka: KafkaSettings) -> faust.App:
    """The faust app: at-least-once, the services' group timing, raw bytes in and out, no tables."""
    session_s = kafka.session_timeout_ms / 1000
    return SagaApp(
        settings.app_id,
        broker=broker_urls(kafka),
        broker_credentials=broker_credentials(kafka),
        store="memory://",
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.partitions,
        broker_session_timeout=session_s,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        broker_rebalance_timeout=session_s,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
        TableManager=SagaTableManager,
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


def saga_message_types() -> list[str]:
    """Every message type of the saga's inputs (types without a rule are recorded and ignored)."""
    return [name for topic in SAGA_INPUT_TOPICS for name in topic_spec(topic).types]


class SagaWorker:
    """The app and everything it runs (see the module docstring)."""

    def __init__(
        self, settings: FulfillmentSettings, kafka: KafkaSettings, partitions: int, progress: OffsetProgress
    ) -> None:
        self.settings = settings
        self.app = build_app(settings, kafka)
        self.engine = create_engine(settings.database_url)
        self.sessions = create_session_factory(self.engine)
        self.steps = SagaSteps(Outbox(service=SERVICE), store=repository, timeout=settings.timeout)
        self.dead_letters = DeadLetterWriter(kafka, settings.app_id)
        handlers = dict.fromkeys(saga_message_types(), self.steps.on_message)
        processor = PartitionProcessor(
            settings.app_id, handlers, self.sessions, self.dead_letters, RetryPolicy()
        )
        self.progress = progress
        self.agent = SagaAgent(processor, progress, batch_max=settings.batch_max)
        self.relay = OutboxRelay(settings.database_url, service=SERVICE, kafka=kafka)
        self.watchdog = StallWatchdog(settings.watchdog_stall_s)
        self._relay_done = asyncio.Event()
        inputs = self.app.topic(*SAGA_INPUT_TOPICS, partitions=partitions, **RAW)
        self.app.agent(inputs, name="fulfillment.saga-agent")(self.agent.run)
        self.app.timer(settings.deadline_check_interval_s, name="fulfillment.deadline-timer")(
            self.check_deadlines
        )
        self.app.timer(min(5.0, settings.watchdog_stall_s / 3), name="fulfillment.watchdog")(self.watch)
        self.app.timer(COMMIT_EVERY_S, name="fulfillment.committer")(self.commit)
        self.app.task(self.run_relay)
        self.app.on_before_shutdown.connect(self.shutdown)

    @property
    def consuming(self) -> bool:
        """Started, past the first recovery, not rebalancing, not stopping."""
        app = self.app
        recovered = bool(app.tables.recovery.completed.is_set())  # type: ignore[attr-defined]
        return bool(app.started and recovered and not app.rebalancing and not app.should_stop)

    async def readiness(self) -> dict[str, Any]:
        """``/readyz``: consuming, the database answers, the relay runs."""
        database = "ok"
        try:
            async with asyncio.timeout(2.0), self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            database = f"{type(exc).__name__}: {exc}"[:200]
        relay = not self._relay_done.is_set() and not self.relay.stopping
        ready = self.consuming and database == "ok" and relay and self.app.started
        return {
            "status": "ready" if ready else "not ready",
            "consuming": self.consuming,
            "rebalancing": bool(self.app.rebalancing),
            "database": database,
            "relay_running": relay,
            "relay_active": self.relay.is_active,
            "assigned_partitions": self.assigned_inputs(),
        }

    def assigned_inputs(self) -> int:
        """How many input partitions this worker owns now."""
        if not self.app.started:
            return 0
        return sum(1 for tp in self.app.consumer.assignment() if tp.topic in SAGA_INPUT_TOPICS)

    async def check_deadlines(self) -> None:
        """Timer: run the timeout step for every instance whose deadline passed (in batches)."""
        limit = self.settings.deadline_batch
        try:
            while True:
                async with self.sessions() as session, session.begin():
                    claimed = await self.steps.expire_due(session, limit)
                if claimed < limit:
                    break
            async with self.sessions() as session:
                metrics.PENDING_DEADLINES.set(await queries.pending_deadlines(session))
        except Exception as exc:  # the next tick tries again; a timer must never crash the app
            log.warning("saga.deadline_timer_failed", error=repr(exc))

    async def watch(self) -> None:
        """Timer: seek an input partition back to its committed offset when it stopped moving."""
        consumer: Any = self.app.consumer
        if not self.consuming or not consumer.flow_active:
            return
        assigned = [tp for tp in consumer.assignment() if tp.topic in SAGA_INPUT_TOPICS]
        self.watchdog.keep_only(assigned)
        now, idle = time.monotonic(), self.agent.idle
        for tp in assigned:
            committed = self.progress.committed(tp)
            highwater = consumer.highwater(tp)
            if not self.watchdog.stalled(tp, committed=committed, highwater=highwater, idle=idle, now=now):
                continue
            target = committed or 0
            log.warning(
                "saga.watchdog_reseek",
                partition=f"{tp.topic}/{tp.partition}",
                committed=committed,
                highwater=highwater,
                handled_below=self.progress.done(tp),
            )
            metrics.WATCHDOG_RESEEKS.labels(tp.topic).inc()
            try:
                await consumer.seek(tp, target)
                self.progress.sought(tp, target, fresh=True)
            except Exception as exc:  # revoked meanwhile: the new owner reads from the commit
                log.warning("saga.watchdog_seek_failed", error=repr(exc))

    async def commit(self) -> None:
        """Timer: commit what the agent handled (clamped to the offset progress)."""
        if not self.app.started or self.app.rebalancing:
            return
        try:
            await commit_progress(self.app)
        except Exception as exc:  # the next tick tries again
            log.warning("saga.commit_failed", error=repr(exc))

    async def run_relay(self) -> None:
        """Task: the shared outbox relay (standby while another worker's relay holds the lock)."""
        try:
            await self.relay.run()
        finally:
            self._relay_done.set()

    async def shutdown(self, sender: Any, /, *_: Any, signal: Any = None, **__: Any) -> None:
        """After the consumer stopped: let the relay publish what it holds, close the DLQ producer."""
        self.relay.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._relay_done.wait(), 10)
        await self.dead_letters.stop()
        await self.engine.dispose()
        await asyncio.to_thread(shutdown_tracing)  # export the spans still buffered
