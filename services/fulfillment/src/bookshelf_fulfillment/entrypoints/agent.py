"""The faust agent: events of the co-partitioned inputs, handled in batches by the shared consumer policy.

The agent reads its stream without automatic acknowledgements and queues the events; a worker task
takes whatever is queued (up to ``batch_max``) and hands it, in stream order, to the policy every
Bookshelf consumer uses (``bookshelf_messaging``'s partition processor): one transaction for the
batch with the inbox claimed in it, a failing message re-run alone with retries and then
dead-lettered, unreadable records dead-lettered at once, unknown types skipped. Only when that
returned (everything committed in PostgreSQL, every dead letter acknowledged by the broker) are the
events acknowledged and their offsets recorded as handled (``OffsetProgress``), which is what the
commit is clamped to. A database or broker failure retries the batch after a pause (the shared
``INFRASTRUCTURE_BACKOFF``), forever: it is
never the message's fault, and nothing is acknowledged meanwhile.

Events of one order are in one partition number of the three inputs and keep their stream order
inside the transaction, so one transaction for the whole batch keeps per-order order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, cast

import structlog
from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_messaging.policy import INFRASTRUCTURE_BACKOFF, Backoff

from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.adapters.dead_letters import ConsumedRecord, record_of
from bookshelf_fulfillment.adapters.progress import OffsetProgress

log = structlog.get_logger("bookshelf.fulfillment")


class SagaAgent:
    """Batches a faust stream into the shared processor; knows whether anything is waiting."""

    def __init__(
        self,
        processor: PartitionProcessor,
        progress: OffsetProgress,
        *,
        batch_max: int,
        retry_after_s: float = INFRASTRUCTURE_BACKOFF.base_s,
    ) -> None:
        self.processor = processor
        self.progress = progress
        self.batch_max = batch_max
        self.retry_after_s = retry_after_s
        self._queue: asyncio.Queue[Any] | None = None
        self._channel: Any = None
        self._in_flight = 0

    @property
    def idle(self) -> bool:
        """Nothing queued in faust's channel or here, and no batch in flight."""
        channel_queue = getattr(self._channel, "queue", None)
        channel_empty = channel_queue is None or channel_queue.empty()
        own_empty = self._queue is None or self._queue.empty()
        return channel_empty and own_empty and self._in_flight == 0

    async def run(self, stream: Any) -> None:
        """The agent function: queue every event; a worker task handles and acknowledges them."""
        manual = stream.noack()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.batch_max)
        self._queue, self._channel = queue, manual.channel
        worker = asyncio.create_task(self._work(manual, queue), name="fulfillment.saga-batches")
        try:
            async for event in manual.events():
                await queue.put(event)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _work(self, stream: Any, queue: asyncio.Queue[Any]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            self._in_flight = len(batch)
            try:
                # Shielded: a cancellation (shutdown) must not cut a transaction short; the events
                # of a cut batch stay unacknowledged and their offsets uncommitted.
                await asyncio.shield(self.handle([record_of(event.message) for event in batch]))
            finally:
                self._in_flight = 0
            for event in batch:
                await stream.ack(event)

    async def handle(self, records: list[ConsumedRecord]) -> None:
        """Process the batch until it succeeds, then record its offsets as handled."""
        started = time.perf_counter()
        failures = 0
        while True:
            try:
                await self.processor.process(cast(Any, records))
                break
            except Exception as exc:  # the processor raises only when the database or broker failed
                failures += 1
                log.warning("saga.batch_failed", error=repr(exc), records=len(records), attempt=failures)
                # The runner's wait while the infrastructure recovers: doubling, capped, jittered.
                await asyncio.sleep(Backoff(self.retry_after_s, INFRASTRUCTURE_BACKOFF.max_s).delay(failures))
        for record in records:
            self.progress.handled((record.topic, record.partition), record.offset)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
