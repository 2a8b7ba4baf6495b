"""One active period of the outbox relay: read, produce, await delivery reports, mark published.

Batches are read with an id cursor (``id > last id read``) so batch N+1 can be read and produced while
batch N is still in flight. The cursor goes back to 0 whenever the relay has caught up, after a
delivery failure, and at least every ``5 * poll_interval_s`` under continuous load: a transaction that
took a lower id but committed later than its neighbours is then picked up too.

After a failed delivery no row produced after the failed one is marked, even if the broker took it
(the idempotent producer without the gapless guarantee may fail A and still deliver B, produced
after A for the same key): the active period ends, and the next one republishes from the failed row
on, in id order, with a fresh producer. Within a period, rows are produced in id order, so "produced
after" is "a higher id".

Rows the broker refuses for good (``BatchDelivery.refused``) are parked: ``parked_at`` and
``parked_error`` are set, the relay skips them, and the rows after them keep flowing
(``bookshelf_messaging.parked`` lists, retries and drops them).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import structlog

from bookshelf_messaging import metrics, tracing
from bookshelf_messaging._delivery import BatchDelivery, OutRecord, ThreadedProducer
from bookshelf_messaging.outbox import outbox_counts
from bookshelf_messaging.policy import RELAY_BACKOFF

log = structlog.get_logger("bookshelf.relay")

SELECT_SQL = (
    "SELECT id, topic, key, value, headers::text AS headers, created_at FROM outbox "
    "WHERE published_at IS NULL AND parked_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
)
MARK_SQL = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"
PARK_SQL = (
    "UPDATE outbox AS o SET parked_at = now(), parked_error = p.error "
    "FROM unnest($1::bigint[], $2::text[]) AS p(id, error) WHERE o.id = p.id AND o.published_at IS NULL"
)
DELETE_CHUNK_SQL = (
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at IS NOT NULL "
    "AND published_at < now() - $1::interval ORDER BY id LIMIT $2)"
)
SWEEP_EVERY_POLLS = 5


AfterPublish = Callable[[Sequence[int]], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """What one active period needs to know about its relay (``OutboxRelay`` builds it once)."""

    service: str
    batch_size: int = 1000
    poll_interval_s: float = 1.0
    retention: timedelta = timedelta(hours=24)
    max_in_flight: int = 4
    cleanup_interval_s: float = 60.0
    stats_interval_s: float = 5.0
    after_publish: AfterPublish | None = None


class Signals:
    """The relay's run-time signals: ``stop`` ends every wait, ``wake`` ends an idle one."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.wake = asyncio.Event()

    @property
    def stopping(self) -> bool:
        """True once stop was asked (a stopped relay stays stopped)."""
        return self.stop.is_set()

    async def wait_for(self, future: asyncio.Future[None]) -> bool:
        """Wait for ``future`` or stop; True when the future finished."""
        if future.done():
            return True
        stopper: asyncio.Future[Any] = asyncio.ensure_future(self.stop.wait())
        waiting: set[asyncio.Future[Any]] = {future, stopper}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        return future.done()

    async def pause(self, seconds: float) -> None:
        """Sleep that stop interrupts."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)


def to_out_records(rows: Sequence[asyncpg.Record]) -> list[OutRecord]:
    """Outbox rows as producer records ``(id, topic, key bytes, value, headers)``."""
    records: list[OutRecord] = []
    for row in rows:
        key = row["key"].encode() if row["key"] is not None else None
        headers = [(k, v.encode()) for k, v in orjson.loads(row["headers"])]
        if tracing.enabled():
            headers = tracing.send_headers(row["topic"], key, headers)
        records.append((row["id"], row["topic"], key, row["value"], headers))
    return records


class Pipeline:
    """Publishes while the relay holds its lock; ``run`` returns when it stops or loses the lock.

    ``failures`` counts consecutive failed deliveries across active periods: the relay passes in the
    count the last period ended with and keeps the one ``run`` returns (or ``failures`` after an
    exception); the retry backoff grows with it.
    """

    def __init__(
        self,
        config: RelayConfig,
        signals: Signals,
        work: asyncpg.Connection,
        producer: ThreadedProducer,
        *,
        failures: int = 0,
    ) -> None:
        self.config = config
        self.signals = signals
        self.work = work
        self.producer = producer
        self.pending: deque[tuple[BatchDelivery, datetime]] = deque()
        self.cursor = 0
        self.failures = failures
        self.retry_pending = False
        self.halt_at: int | None = None  # lowest row id whose delivery failed in this active period
        now = time.monotonic()
        self.cursor_reset_at = now
        self.next_cleanup = now + config.cleanup_interval_s
        self.next_stats = now

    async def run(self, lock_conn: asyncpg.Connection) -> int:
        """The publish loop; returns the consecutive failure count. Exceptions (hook, database) leave
        in-flight batches unmarked."""
        config = self.config
        while not self.signals.stopping and not lock_conn.is_closed():
            self.signals.wake.clear()
            rows = await self.work.fetch(SELECT_SQL, self.cursor, config.batch_size)
            if rows:
                await self._send(rows)
            full = len(rows) == config.batch_size
            sweep_due = time.monotonic() - self.cursor_reset_at >= config.poll_interval_s * SWEEP_EVERY_POLLS
            await self._settle(wait_all=not full or sweep_due or self.retry_pending)
            if self.retry_pending:
                # Retry with a fresh producer (the relay makes one per active period): after a broker
                # restart, librdkafka's idempotent producer could time out every message for good.
                await self._back_off()
                return self.failures
            if full and not sweep_due:
                continue
            self._reset_cursor()  # nothing in flight now: safe to re-read from the lowest id
            await self._housekeeping()
            if not full:
                await self._idle()
        await self._drain_quietly()
        return self.failures

    def _reset_cursor(self) -> None:
        self.cursor = 0
        self.cursor_reset_at = time.monotonic()

    async def _send(self, rows: Sequence[asyncpg.Record]) -> None:
        self.cursor = rows[-1]["id"]
        delivery = await self.producer.send(to_out_records(rows))
        self.pending.append((delivery, rows[0]["created_at"]))
        metrics.OUTBOX_BATCH_SIZE.labels(self.config.service).observe(len(rows))

    async def _settle(self, *, wait_all: bool, draining: bool = False) -> None:
        """Mark finished batches; wait for the oldest while the pipeline is full (or all, if asked).

        ``stop()`` interrupts the wait (a broker outage can hold reports for ``message.timeout.ms``);
        unmarked rows are simply published again by the next active relay.
        """
        while self.pending:
            delivery, _ = self.pending[0]
            if not (delivery.future.done() or wait_all or len(self.pending) >= self.config.max_in_flight):
                return
            if draining:
                await delivery.future
            elif not await self.signals.wait_for(delivery.future):
                return
            await self._mark(*self.pending.popleft())

    async def _mark(self, delivery: BatchDelivery, oldest: datetime) -> None:
        service = self.config.service
        hook = self.config.after_publish
        if hook is not None:  # test hook: raising here simulates a crash between publish and mark
            result = hook(delivery.ids)
            if inspect.isawaitable(result):
                await result
        if delivery.failed:
            first_failed = min(delivery.failed)
            self.halt_at = first_failed if self.halt_at is None else min(self.halt_at, first_failed)
        delivered = delivery.delivered
        held = 0
        if self.halt_at is not None:
            # Produced after a failed row: not marked, republished after it (module docstring).
            marked = [row_id for row_id in delivered if row_id < self.halt_at]
            held, delivered = len(delivered) - len(marked), marked
        if delivered:
            await self.work.execute(MARK_SQL, delivered)
            metrics.OUTBOX_PUBLISHED.labels(service).inc(len(delivered))
            age = (datetime.now(UTC) - oldest).total_seconds()
            metrics.OUTBOX_PUBLISH_LATENCY.labels(service).observe(max(0.0, age))
        if delivery.refused:
            await self._park(delivery.refused)
        if delivery.failed:
            self.retry_pending = True
            metrics.OUTBOX_PUBLISH_FAILED.labels(service).inc(len(delivery.failed))
            sample = next(iter(delivery.failed.values()))
            log.warning(
                "relay.delivery_failed", service=service, rows=len(delivery.failed), error=sample, held=held
            )
        elif held:
            log.info("relay.held_after_failure", service=service, rows=held, after_id=self.halt_at)

    async def _park(self, refused: dict[int, str]) -> None:
        """Set aside rows the broker will never take; the rows after them keep flowing."""
        service = self.config.service
        ids = sorted(refused)
        await self.work.execute(PARK_SQL, ids, [refused[row_id] for row_id in ids])
        metrics.OUTBOX_PARKED_TOTAL.labels(service).inc(len(ids))
        metrics.OUTBOX_PARKED.labels(service).inc(len(ids))  # the next stats sample sets the true count
        log.error("relay.parked", service=service, ids=ids, error=refused[ids[0]])

    async def _back_off(self) -> None:
        self.failures += 1
        self.retry_pending = False
        delay = RELAY_BACKOFF.delay(self.failures)
        log.info("relay.retry_backoff", service=self.config.service, delay_s=delay)
        await self.signals.pause(delay)
        self._reset_cursor()

    async def _drain_quietly(self) -> None:
        """On a normal exit: wait for reports still due and mark what was delivered (best effort)."""
        try:
            await asyncio.wait_for(self._settle(wait_all=True, draining=True), timeout=10)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("relay.drain_incomplete", service=self.config.service, error=repr(exc))

    async def _idle(self) -> None:
        self.failures = 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.signals.wake.wait(), self.config.poll_interval_s)

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        config = self.config
        if now >= self.next_stats:
            self.next_stats = now + config.stats_interval_s
            backlog, parked, age = await outbox_counts(self.work)
            metrics.OUTBOX_BACKLOG.labels(config.service).set(backlog)
            metrics.OUTBOX_PARKED.labels(config.service).set(parked)
            metrics.OUTBOX_OLDEST_AGE.labels(config.service).set(age or 0.0)
        if now >= self.next_cleanup:
            self.next_cleanup = now + config.cleanup_interval_s
            await delete_published(self.work, config, chunk=5_000)


async def delete_published(work: asyncpg.Connection, config: RelayConfig, *, chunk: int) -> int:
    """Delete rows published longer than ``config.retention`` ago, ``chunk`` rows per statement."""
    total = 0
    while True:
        status = await work.execute(DELETE_CHUNK_SQL, config.retention, chunk)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < chunk:
            break
    if total:
        metrics.OUTBOX_DELETED.labels(config.service).inc(total)
    return total
