"""The outbox relay: publishes a service's outbox rows to Kafka in id order, then marks them published.

One relay per service database is active: it holds a PostgreSQL advisory lock on a dedicated
connection, and standby relays retry the lock every ``lock_retry_s``; when the holder stops or its
connection dies, the lock is free and a standby takes over. The active relay wakes on LISTEN
``outbox`` (a statement trigger notifies on insert) and polls every ``poll_interval_s`` as a fallback.

Pipelining: batch N+1 is read and produced while batch N waits for its delivery reports, up to
``max_in_flight`` batches. A batch is marked published (one UPDATE) only once every record of it was
acknowledged; failed rows, and every row produced after a failed one, stay unpublished and are
republished in id order after a backoff. Rows the broker refuses for good are parked, never retried
on their own. A crash between publish and mark re-publishes the batch, which consumers absorb through
their inbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from bookshelf_messaging import metrics
from bookshelf_messaging._delivery import ThreadedProducer
from bookshelf_messaging._relay_pipeline import AfterPublish, Pipeline, RelayConfig, Signals, delete_published
from bookshelf_messaging.db import to_asyncpg_dsn
from bookshelf_messaging.errors import CONNECTION_ERRORS
from bookshelf_messaging.limits import MAX_MESSAGE_BYTES
from bookshelf_messaging.schema import NOTIFY_CHANNEL
from bookshelf_messaging.settings import KafkaSettings

__all__ = ["AfterPublish", "OutboxRelay", "RelayConfig", "lock_key"]

log = structlog.get_logger("bookshelf.relay")

ProducerFactory = Callable[[dict[str, Any]], ThreadedProducer]
# Failures that end an active period (the relay backs off and competes for the lock again).
# Database and network errors: the relay reconnects (fault suite scenario 3 found a PostgreSQL
# restart leaving asyncpg's InternalClientError, which used to stop the whole process).
RECOVERABLE: tuple[type[BaseException], ...] = (OSError, asyncpg.PostgresError, *CONNECTION_ERRORS)


def lock_key(service: str) -> int:
    """The advisory lock id of a service's relay (a signed 64-bit hash of its name)."""
    digest = hashlib.blake2b(f"bookshelf.outbox-relay:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class OutboxRelay:
    """Publishes one service's outbox to Kafka (run as a task; ``stop()`` ends ``run()``).

    ``after_publish`` is a test hook called with a batch's row ids after the broker acknowledged them
    and before they are marked; raising from it ends ``run()`` with that exception and leaves the
    batch unmarked, like a crash between publish and mark. ``producer_factory`` makes the producer of
    each active period from ``producer_config`` (tests wrap delivery reports with it).
    """

    def __init__(
        self,
        dsn: str,
        *,
        service: str,
        kafka: KafkaSettings,
        batch_size: int = 1000,
        poll_interval_s: float = 1.0,
        retention: timedelta = timedelta(hours=24),
        lock_retry_s: float = 1.0,
        max_in_flight: int = 4,
        cleanup_interval_s: float = 60.0,
        stats_interval_s: float = 5.0,
        producer_config: dict[str, Any] | None = None,
        after_publish: AfterPublish | None = None,
        producer_factory: ProducerFactory = ThreadedProducer,
    ) -> None:
        self.dsn = to_asyncpg_dsn(dsn)
        self.service = service
        self.kafka = kafka
        self.config = RelayConfig(
            service=service,
            batch_size=batch_size,
            poll_interval_s=poll_interval_s,
            retention=retention,
            max_in_flight=max(1, max_in_flight),
            cleanup_interval_s=cleanup_interval_s,
            stats_interval_s=stats_interval_s,
            after_publish=after_publish,
        )
        self.lock_retry_s = lock_retry_s
        self.producer_factory = producer_factory
        self.producer_config: dict[str, Any] = {
            **kafka.confluent_producer_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "message.timeout.ms": 60_000,
            # The size every topic takes (limits.py): Outbox.add refuses bigger events up front.
            "message.max.bytes": MAX_MESSAGE_BYTES,
            "batch.size": MAX_MESSAGE_BYTES,
            **(producer_config or {}),
        }
        self.signals = Signals()
        self._active = False
        self.delivery_failures = 0  # consecutive failed deliveries: the retry backoff grows with them
        self._lock_conn: asyncpg.Connection | None = None

    @property
    def is_active(self) -> bool:
        """True while this relay holds its service's lock and publishes."""
        return self._active

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` was called (a stopped relay stays stopped)."""
        return self.signals.stopping

    def stop(self) -> None:
        """Ask ``run()`` to finish: in-flight batches are awaited and marked, then the lock is released."""
        self.signals.stop.set()
        self.signals.wake.set()

    async def pause(self, seconds: float) -> None:
        """Sleep that ``stop()`` interrupts."""
        await self.signals.pause(seconds)

    async def run(self) -> None:
        """Compete for the lock, publish while holding it, recover from database and network errors."""
        while not self.stopping:
            try:
                lock_conn = await self._acquire_lock()
                if lock_conn is None:
                    break
                await self._run_active(lock_conn)
                # Lost the lock (its connection died) or stopping: give a standby the first chance.
                await self.pause(self.lock_retry_s)
            except RECOVERABLE as exc:
                log.warning("relay.error", service=self.service, error=repr(exc))
                await self.pause(self.lock_retry_s)
            finally:
                await self._release_lock()

    async def delete_published(self, chunk: int = 5_000) -> int:
        """Delete rows published longer than ``retention`` ago now (the relay also does it periodically)."""
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        try:
            return await delete_published(conn, self.config, chunk=chunk)
        finally:
            await conn.close()

    async def _acquire_lock(self) -> asyncpg.Connection | None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        self._lock_conn = conn
        key = lock_key(self.service)
        while not self.stopping:
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                return conn
            await self.pause(self.lock_retry_s)
        return None

    async def _release_lock(self) -> None:
        self._set_active(False)
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None and not conn.is_closed():
            # Ending the session releases the advisory lock and the LISTEN.
            await conn.close(timeout=5)

    def _set_active(self, active: bool) -> None:
        self._active = active
        metrics.OUTBOX_RELAY_ACTIVE.labels(self.service).set(1 if active else 0)

    async def _run_active(self, lock_conn: asyncpg.Connection) -> None:
        await lock_conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        # When the lock connection dies the lock is gone: wake the loop so it stops publishing.
        lock_conn.add_termination_listener(self._on_notify)
        work: asyncpg.Connection = await asyncpg.connect(self.dsn)
        producer: ThreadedProducer | None = None
        try:
            # Losing a "published" mark in a crash only re-publishes rows, which consumers absorb:
            # not waiting for the WAL flush of every mark is worth it.
            await work.execute("SET synchronous_commit = off")
            producer = self.producer_factory(self.producer_config)
            self._set_active(True)
            log.info("relay.active", service=self.service)
            pipeline = Pipeline(self.config, self.signals, work, producer, failures=self.delivery_failures)
            try:
                self.delivery_failures = await pipeline.run(lock_conn)
            except BaseException:
                self.delivery_failures = pipeline.failures  # the count the period reached before it failed
                raise
        finally:
            self._set_active(False)
            if producer is not None:
                await producer.close()
            await work.close(timeout=5)

    def _on_notify(self, *_args: Any) -> None:
        self.signals.wake.set()
