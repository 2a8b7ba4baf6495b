"""The saga's dead letters, through the writer every Bookshelf consumer shares (``bookshelf_messaging.dlq``).

The consumer runner's policy calls this writer for records that cannot be read and for records that
failed every attempt. A letter the broker does not acknowledge raises ``InfrastructureError``: the
batch is then retried, and its records are acknowledged only once their letter is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from bookshelf_messaging import InfrastructureError, KafkaSettings
from bookshelf_messaging import metrics as messaging_metrics
from bookshelf_messaging.consumer import DLQ_MAX_REQUEST_BYTES
from bookshelf_messaging.dlq import Failure, RecordLike, write_dead_letter

from bookshelf_fulfillment import metrics

log = structlog.get_logger("bookshelf.fulfillment")


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """A consumed record as the shared consumer policy and the DLQ need it (aiokafka's shape)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def normalise_headers(headers: object) -> list[tuple[str, bytes]]:
    """faust hands headers over as a list of pairs, a mapping or None; the DLQ wants pairs."""
    if headers is None:
        return []
    pairs: Iterable[tuple[object, object]] = (
        headers.items() if isinstance(headers, Mapping) else headers  # type: ignore[assignment]
    )
    return [(str(k), v if isinstance(v, bytes) else str(v or "").encode()) for k, v in pairs]


def record_of(message: Any) -> ConsumedRecord:
    """The record of a faust ``Message``."""
    return ConsumedRecord(
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        normalise_headers(message.headers),
    )


class DeadLetterWriter:
    """Writes dead letters for one consumer group with its own producer (started on first use)."""

    def __init__(self, kafka: KafkaSettings, group: str) -> None:
        self.kafka = kafka
        self.group = group
        self._producer: AIOKafkaProducer | None = None

    async def __call__(self, record: Any, failure: Failure) -> str:
        """Write the dead letter of ``record`` (the ``DeadLetterWriter`` contract of the runner policy)."""
        producer = await self._started()
        letter = await write_dead_letter(producer, record, self.group, failure)
        letter_of: RecordLike = record
        metrics.INVALID_RECORDS.labels(letter_of.topic).inc()
        messaging_metrics.DEAD_LETTERED.labels(
            self.group, letter_of.topic, type(failure.error).__name__
        ).inc()
        log.error(
            "saga.dead_lettered",
            topic=letter_of.topic,
            partition=letter_of.partition,
            offset=letter_of.offset,
            entry_id=letter.key,
            error=str(failure.error)[:500],
            attempts=failure.attempts,
        )
        return letter.key

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                **self.kafka.aiokafka_kwargs(),
                acks="all",
                client_id=f"{self.group}.dlq",
                # Whatever the worker could read, it must be able to dead-letter.
                max_request_size=DLQ_MAX_REQUEST_BYTES,
            )
            try:
                await producer.start()
            except KafkaError as exc:
                await producer.stop()
                raise InfrastructureError(f"the dead-letter producer cannot start: {exc!r}") from exc
            self._producer = producer
        return self._producer

    async def stop(self) -> None:
        """Flush and close the producer."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
