"""A confluent-kafka Producer whose delivery reports resolve asyncio futures, one per batch.

librdkafka only runs delivery callbacks inside ``poll``/``flush``; a daemon thread polls so the event
loop never blocks. Each batch counts its reports in that thread and wakes the loop once, when the
last report arrives (one ``call_soon_threadsafe`` per batch instead of one per message).

A row the broker will never take is *refused*: ``produce()`` raised for it (anything but BufferError,
which only means "queue full, wait"), or its delivery report carries a record-level permanent error
(too large, invalid record). The relay parks refused rows; every other failure is retried.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Producer

Headers = list[tuple[str, bytes]]
OutRecord = tuple[int, str, bytes | None, bytes, Headers]  # (row id, topic, key, value, headers)
DeliveryCallback = Callable[[KafkaError | None, Any], None]

# Delivery errors about the record itself: sending it again cannot succeed.
PERMANENT_DELIVERY_ERRORS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,  # over the topic's max.message.bytes
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_RECORD,
    }
)
# Errors produce() raises that are about the producer or the cluster, not the record: the row is retried
# (a broker that lost a topic on restart answers "unknown topic" until the topic is created again).
RETRIED_PRODUCE_ERRORS = frozenset(
    {
        KafkaError._UNKNOWN_TOPIC,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._FATAL,
        KafkaError._STATE,
        KafkaError._DESTROY,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._AUTHENTICATION,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    }
)


def refuses_record(exc: Exception) -> bool:
    """True when ``produce()`` raised ``exc`` because of the record itself (it can never be sent)."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        error: KafkaError = exc.args[0]
        return not (error.retriable() or error.fatal() or error.code() in RETRIED_PRODUCE_ERRORS)
    return True  # TypeError, ValueError: a key, value or header librdkafka cannot take


def describe(exc: Exception) -> str:
    """A produce() exception as text (KafkaError's own text when it has one)."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return str(exc.args[0].str())
    return f"{type(exc).__name__}: {exc}"


class BatchDelivery:
    """Delivery state of one batch: ids sent, ids that failed or were refused (with errors) and a
    completion future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        self.failed: dict[int, str] = {}  # retried
        self.refused: dict[int, str] = {}  # never deliverable: the relay parks them
        self.future: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._lock = threading.Lock()  # reports come from the poll thread, refusals from the loop
        self._remaining = len(self.ids)
        if self._remaining == 0:
            self.future.set_result(None)

    @property
    def delivered(self) -> list[int]:
        """Ids the broker acknowledged."""
        if not self.failed and not self.refused:
            return self.ids
        return [row_id for row_id in self.ids if row_id not in self.failed and row_id not in self.refused]

    def on_delivery(self, row_id: int, err: KafkaError | None, _msg: Any) -> None:
        """librdkafka delivery callback (runs in the poll thread)."""
        if err is not None:
            if err.code() in PERMANENT_DELIVERY_ERRORS:
                self.refused[row_id] = err.str()
            else:
                self.failed[row_id] = err.str()
        self._count_down()

    def not_sent(self, row_ids: Sequence[int], error: str, *, refused: bool) -> None:
        """Rows that will get no delivery report (produce() raised): refused for good, or to retry."""
        for row_id in row_ids:
            (self.refused if refused else self.failed)[row_id] = error
        self._count_down(len(row_ids))

    def _count_down(self, count: int = 1) -> None:
        with self._lock:
            self._remaining -= count
            finished = self._remaining == 0
        if finished:
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

    def delivery_callback(self, delivery: BatchDelivery, row_id: int) -> DeliveryCallback:
        """The librdkafka delivery callback of one row (a seam: tests wrap it to inject failures)."""
        return partial(delivery.on_delivery, row_id)

    async def send(self, records: Sequence[OutRecord]) -> BatchDelivery:
        """Queue every record and return the batch's delivery state (resolved by the poll thread).

        A record ``produce()`` refuses is marked refused and the next one is sent. Any other error it
        raises stops the batch there: that row and the rest are failed, and sent again later in order.
        """
        ids = [r[0] for r in records]
        delivery = BatchDelivery(asyncio.get_running_loop(), ids)
        produce = self._producer.produce
        for index, (row_id, topic, key, value, headers) in enumerate(records):
            callback = self.delivery_callback(delivery, row_id)
            while True:
                try:
                    produce(topic, value=value, key=key, headers=cast(Any, headers), on_delivery=callback)
                    break
                except BufferError:
                    # Local queue full: let the poll thread drain it without blocking the loop.
                    await asyncio.sleep(0.005)
                except Exception as exc:  # classified: refused for good, or retried later
                    if refuses_record(exc):
                        delivery.not_sent([row_id], describe(exc), refused=True)
                        break
                    delivery.not_sent(ids[index:], describe(exc), refused=False)
                    return delivery
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
