"""Read topics from their beginning to the end each partition had when the read started.

A throwaway consumer (a random group id that never commits, so nobody's offsets move) is assigned
every partition of the wanted topics at its beginning and reads until every partition reported its
end (``enable.partition.eof``, from the fetch high watermark). ``DeadLetterStore`` reads the open
dead letters with it; the observatory's trace scan reads every topic with it. Synchronous
(confluent-kafka): callers run it in a thread.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition

from bookshelf_messaging.settings import KafkaSettings


def scan_to_end(
    kafka: KafkaSettings,
    wanted: Callable[[str], bool],
    on_record: Callable[[Message], None],
    *,
    group_prefix: str,
    timeout_s: float,
    what: str = "reading the topics",
    only_topic: str | None = None,
    metadata_timeout_s: float | None = None,
) -> None:
    """Call ``on_record`` for every record of every partition of the topics ``wanted`` accepts, in
    partition order, up to each partition's end; raise ``TimeoutError`` (naming ``what``) after
    ``timeout_s``. ``only_topic`` asks the broker for that topic's metadata alone."""
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": f"{group_prefix}{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            # Empty partitions answer after this wait; the default 500 ms made every read slow.
            "fetch.wait.max.ms": 10,
        }
    )
    try:
        metadata = consumer.list_topics(only_topic, timeout=metadata_timeout_s or timeout_s)
        partitions = sorted(
            (name, partition)
            for name, meta in metadata.topics.items()
            if meta.error is None and wanted(name)
            for partition in meta.partitions
        )
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in partitions])
        _read(consumer, set(partitions), on_record, timeout_s, f"{what} did not reach the end of", kafka)
    finally:
        consumer.close()


def _read(
    consumer: Consumer,
    pending: set[tuple[str, int]],
    on_record: Callable[[Message], None],
    timeout_s: float,
    failed: str,
    kafka: KafkaSettings,
) -> None:
    deadline = time.monotonic() + timeout_s
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{failed} {sorted(pending)[:5]} in {timeout_s:g} s; "
                f"is the broker at {kafka.bootstrap_servers} reachable?"
            )
        for msg in consumer.consume(num_messages=1000, timeout=0.1):
            err = msg.error()
            if err is None:
                on_record(msg)
            elif err.code() == KafkaError._PARTITION_EOF:
                pending.discard((msg.topic() or "", msg.partition() or 0))
            else:
                raise KafkaException(err)
