"""Direct access to the topics: read a whole range, publish records again (duplicates, reversed
order), publish raw records (poison, oversized, unknown types), count re-published message ids.

Ranges are read to partition EOF, which comes from the fetch high watermark (a reader sees what a
consumer sees).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bookshelf_messaging.settings import KafkaSettings
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Record:
    """One record as read from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    def header(self, name: str) -> str | None:
        return next((v.decode() for k, v in self.headers if k == name), None)


def read_all(kafka: KafkaSettings, topic: str, *, timeout_s: float = 60.0) -> list[Record]:
    """Every record of ``topic``, partition by partition, in offset order."""
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": f"faults-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 10,
            "fetch.message.max.bytes": 8 * 1024 * 1024,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        pending, records = set(partitions), []
        deadline = time.monotonic() + timeout_s
        while pending:
            assert time.monotonic() < deadline, f"reading {topic} did not reach the end of {pending}"
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error
                pending.discard(message.partition())
                continue
            headers = [(k, bytes(v or b"")) for k, v in (message.headers() or [])]
            records.append(
                Record(topic, message.partition(), message.offset(), message.key(), message.value(), headers)
            )
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def publish(kafka: KafkaSettings, records: list[Record], *, topic: str | None = None) -> int:
    """Produce ``records`` in the given order, each to its own partition (or keyed, to ``topic``)."""
    producer = Producer(
        {
            **kafka.confluent_producer_config(),
            "acks": "all",
            "enable.idempotence": True,
            "message.max.bytes": 8 * 1024 * 1024,
        }
    )
    failures: list[str] = []

    def on_delivery(err: KafkaError | None, _msg: Any) -> None:
        if err is not None:
            failures.append(err.str())

    for record in records:
        target: dict[str, Any] = {"partition": record.partition} if topic is None else {}
        producer.produce(
            topic or record.topic,
            value=record.value,
            key=record.key,
            headers=record.headers,
            on_delivery=on_delivery,
            **target,
        )
        producer.poll(0)
    remaining = producer.flush(60)
    assert not failures, f"{len(failures)} records failed: {failures[:3]}"
    assert remaining == 0, f"{remaining} records undelivered"
    return len(records)


def raw(topic: str, key: str, value: bytes | None, headers: Headers | None = None) -> Record:
    """A record to publish by key (partition -1: the producer's murmur2 partitioner picks it)."""
    return Record(topic, -1, -1, key.encode(), value, headers or [])


def republished(kafka: KafkaSettings, topic: str) -> int:
    """Records of ``topic`` whose message id an earlier record already carried."""
    ids = Counter(r.header("message_id") for r in read_all(kafka, topic))
    return sum(n - 1 for message_id, n in ids.items() if message_id is not None and n > 1)
