"""A confluent-kafka Producer whose delivery reports resolve asyncio futures, one per batch.

librdkafka only runs delivery callbacks inside ``poll``/``flush``; a daemon thread polls so the event
loop never blocks. Each batch counts its reports in that thread and wakes the loop once, when the
last report arrives (one ``call_soon_threadsafe`` per batch instead of one per message).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any, cast

from confluent_kafka import KafkaError, Producer

Headers = list[tuple[str, bytes]]
OutRecord = tuple[int, str, bytes | None, bytes, Headers]  # (row id, topic, key, value, headers)


class BatchDelivery:
    """Delivery state of one batch: ids sent, ids that failed (with errors) and a completion future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        self.failed: dict[int, str] = {}
        self.future: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._remaining = len(self.ids)
        if self._remaining == 0:
            self.future.set_result(None)

    @property
    def delivered(self) -> list[int]:
        """Ids the broker acknowledged."""
        if not self.failed:
            return self.ids
        return [row_id for row_id in self.ids if row_id not in self.failed]

    def on_delivery(self, row_id: int, err: KafkaError | None, _msg: Any) -> None:
        """librdkafka delivery callback (runs in the poll thread)."""
        if err is not None:
            self.failed[row_id] = err.str()
        self._remaining -= 1
        if self._remaining == 0:
            self._loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class _Closed:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("the producer is closed")


_CLOSED: Any = _Closed()


class ThreadedProducer:
    """An idempotent confluent-kafka producer with a polling thread and async batch sends."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._producer: Producer = Producer(config)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll_forever, name="outbox-relay-poll", daemon=True)
        self._thread.start()

    def _poll_forever(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    async def send(self, records: Sequence[OutRecord]) -> BatchDelivery:
        """Queue every record and return the batch's delivery state (resolved by the poll thread)."""
        delivery = BatchDelivery(asyncio.get_running_loop(), [r[0] for r in records])
        produce = self._producer.produce
        for row_id, topic, key, value, headers in records:
            callback = partial(delivery.on_delivery, row_id)
            while True:
                try:
                    produce(topic, value=value, key=key, headers=cast(Any, headers), on_delivery=callback)
                    break
                except BufferError:
                    # Local queue full: let the poll thread drain it without blocking the loop.
                    await asyncio.sleep(0.005)
        return delivery

    async def close(self, timeout_s: float = 5.0) -> int:
        """Flush outstanding messages (in a thread), stop polling; returns messages still queued."""
        self._stop.set()
        await asyncio.to_thread(self._thread.join)
        remaining: int = await asyncio.to_thread(self._producer.flush, timeout_s)
        # Drop the client now: a traceback that keeps this object alive must not keep librdkafka
        # reconnecting in the background.
        self._producer = _CLOSED
        return remaining
