"""The operator side of dead letters (``bookshelf dlq ...``): list, inspect, replay, close, purge.

Synchronous (confluent-kafka), for the CLI; async callers wrap calls in ``asyncio.to_thread``.
A ``.dlq`` topic is read from the beginning to the end each partition had when the read started
(partition EOF, which comes from the fetch high watermark; ListOffsets end offsets were wrong on the
memory-only broker Bookshelf used to embed, docs/adr/0001-kafka-broker-per-mode.md). The latest record
per key wins and a tombstone closes the entry, which is what a compacted topic keeps anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

from bookshelf_contracts import dlq, primary
from bookshelf_contracts.topics import DLQ_SUFFIX
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from bookshelf_messaging.dlq import DeadLetter
from bookshelf_messaging.policy import REPLAY_LIMIT
from bookshelf_messaging.scan import scan_to_end
from bookshelf_messaging.settings import KafkaSettings

_Out = tuple[str, int | None, bytes | None, bytes | None, list[tuple[str, bytes]]]


class DeadLetterNotFound(LookupError):
    """No open dead letter has this entry id."""


class ReplayLimitExceeded(RuntimeError):
    """The entry was already replayed ``max_replays`` times; fix the cause or close it."""


class NotReplayable(RuntimeError):
    """The entry does not hold the whole original record (cut, or a tombstone); the message says
    what to do instead."""


def dlq_topic_name(topic: str) -> str:
    """A topic, bulk lane or ``.dlq`` name -> the ``.dlq`` topic holding its dead letters."""
    return topic if topic.endswith(DLQ_SUFFIX) else dlq(primary(topic))


class DeadLetterStore:
    """Reads and manages open dead letters in ``<topic>.dlq`` topics."""

    def __init__(self, kafka: KafkaSettings, *, timeout_s: float = 15.0) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s

    # --- reading ----------------------------------------------------------------------------------
    def dlq_topics(self) -> list[str]:
        """Every ``.dlq`` topic on the broker, sorted."""
        admin = AdminClient(self.kafka.confluent_config())
        metadata = admin.list_topics(timeout=self.timeout_s)
        return sorted(name for name in metadata.topics if name.endswith(DLQ_SUFFIX))

    def list_open(self, topic: str | None = None) -> list[DeadLetter]:
        """Open entries of one topic (any of its names) or of every ``.dlq`` topic, newest first."""
        topics = [dlq_topic_name(topic)] if topic else self.dlq_topics()
        entries = list(self._read_open(topics).values())
        return sorted(entries, key=lambda e: (e.last_failed_at is not None, e.last_failed_at), reverse=True)

    def get(self, entry_id: str, *, topic: str | None = None) -> DeadLetter:
        """The open entry with this id (searched in ``topic``'s DLQ, or all); raises ``DeadLetterNotFound``."""
        for entry in self.list_open(topic):
            if entry.entry_id == entry_id:
                return entry
        raise DeadLetterNotFound(
            f"no open dead letter {entry_id!r}; `bookshelf dlq list` shows open entries "
            "(replayed, closed and purged entries are gone)"
        )

    def _read_open(self, dlq_topics: list[str]) -> dict[tuple[str, str], DeadLetter]:
        if not dlq_topics:
            return {}
        open_entries: dict[tuple[str, str], DeadLetter] = {}
        wanted = set(dlq_topics)
        scan_to_end(
            self.kafka,
            wanted.__contains__,
            lambda msg: self._apply(open_entries, msg),
            group_prefix="bookshelf-dlq-reader-",
            timeout_s=self.timeout_s,
            what="reading dead letters",
            only_topic=dlq_topics[0] if len(dlq_topics) == 1 else None,
        )
        return open_entries

    @staticmethod
    def _apply(open_entries: dict[tuple[str, str], DeadLetter], msg: Message) -> None:
        dlq_topic = msg.topic() or ""
        key_raw = msg.key()
        if key_raw is None:
            return
        key = key_raw.decode(errors="replace") if isinstance(key_raw, bytes) else str(key_raw)
        value = msg.value()
        if value is None:  # tombstone: replayed, closed or purged
            open_entries.pop((dlq_topic, key), None)
            return
        raw_headers = msg.headers() or []
        pairs = list(raw_headers.items()) if isinstance(raw_headers, dict) else raw_headers
        headers = [(k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in pairs]
        raw = value if isinstance(value, bytes) else str(value).encode()
        open_entries[(dlq_topic, key)] = DeadLetter.from_record(
            dlq_topic, msg.partition() or 0, msg.offset() or 0, key, raw, headers
        )

    # --- changing ---------------------------------------------------------------------------------
    def replay(
        self, entry_id: str, *, topic: str | None = None, max_replays: int = REPLAY_LIMIT
    ) -> DeadLetter:
        """Re-publish the original key, value and headers (``dlq.replay_count`` + 1, addressed to the
        entry's consumer group with ``dlq.replay_group``), then close it.

        Raises ``ReplayLimitExceeded`` when the entry was replayed ``max_replays`` times already, and
        ``NotReplayable`` when it does not hold the whole record (``DeadLetter.replay_refusal``).
        """
        entry = self.get(entry_id, topic=topic)
        if entry.replay_count >= max_replays:
            raise ReplayLimitExceeded(
                f"dead letter {entry_id} was already replayed {entry.replay_count} times "
                f"(limit {max_replays}); last error {entry.error_type}: {entry.error_message[:200]}. "
                "Fix the cause and raise the limit, or close the entry."
            )
        refusal = entry.replay_refusal()
        if refusal is not None:
            raise NotReplayable(refusal)
        self.replay_entries([entry], max_replays=max_replays)
        return entry

    def replay_from_original(
        self, entry_id: str, *, topic: str | None = None, max_replays: int = REPLAY_LIMIT
    ) -> DeadLetter:
        """Replay a cut entry with the whole record, read again at its original topic, partition and
        offset (while the topic's retention keeps it), then close it.

        Raises ``NotReplayable`` when the record is gone or the entry was a tombstone, and
        ``ReplayLimitExceeded`` like ``replay``.
        """
        entry = self.get(entry_id, topic=topic)
        if entry.replay_count >= max_replays:
            raise ReplayLimitExceeded(
                f"dead letter {entry_id} was already replayed {entry.replay_count} times "
                f"(limit {max_replays}). Fix the cause and raise the limit, or close the entry."
            )
        if entry.original_tombstone:
            raise NotReplayable(entry.replay_refusal() or "a tombstone has nothing to replay")
        value = self._read_original(entry)
        self._produce([(entry.original_topic, None, entry.original_key, value, entry.replay_headers())])
        self._tombstone([entry])
        return entry

    def _read_original(self, entry: DeadLetter) -> bytes | None:
        """The value of the record the entry came from, read at its original offset."""
        where = f"{entry.original_topic} partition {entry.original_partition} offset {entry.original_offset}"
        gone = NotReplayable(
            f"the record of dead letter {entry.entry_id} is no longer at {where} (the topic's retention "
            "removed it). Nothing whole is left to replay: close the entry"
        )
        consumer = Consumer(
            {
                **self.kafka.confluent_config(),
                "group.id": f"bookshelf-dlq-reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "error",  # an offset retention removed is an error, not another record
            }
        )
        try:
            tp = TopicPartition(entry.original_topic, entry.original_partition)
            low, high = consumer.get_watermark_offsets(tp, timeout=self.timeout_s)
            if not low <= entry.original_offset < high:
                raise gone
            consumer.assign(
                [TopicPartition(entry.original_topic, entry.original_partition, entry.original_offset)]
            )
            msg = consumer.poll(self.timeout_s)
            if msg is None or msg.error() is not None or msg.offset() != entry.original_offset:
                raise gone
            value = msg.value()
            return value if value is None or isinstance(value, bytes) else str(value).encode()
        finally:
            consumer.close()

    def replay_entries(
        self, entries: Iterable[DeadLetter], *, max_replays: int = REPLAY_LIMIT
    ) -> list[DeadLetter]:
        """Replay many entries at once (``replay-all``). Entries at the limit and entries that cannot be
        replayed (``replay_refusal``) are left open and returned."""
        due: list[DeadLetter] = []
        skipped: list[DeadLetter] = []
        for entry in entries:
            ok = entry.replay_count < max_replays and entry.replay_refusal() is None
            (due if ok else skipped).append(entry)
        # Originals first, tombstones only after every original was acknowledged.
        self._produce([(e.original_topic, None, e.original_key, e.value, e.replay_headers()) for e in due])
        self._tombstone(due)
        return skipped

    def close(self, entry_id: str, *, topic: str | None = None) -> DeadLetter:
        """Close an entry without replaying it."""
        entry = self.get(entry_id, topic=topic)
        self._tombstone([entry])
        return entry

    def close_ids(self, topic: str, entry_ids: Iterable[str]) -> list[DeadLetter]:
        """Close exactly these entries of a topic's DLQ, those still open; returns the ones closed.

        For purges after a confirmation: entries that arrived meanwhile stay open.
        """
        wanted = set(entry_ids)
        entries = [e for e in self.list_open(topic) if e.entry_id in wanted]
        self._tombstone(entries)
        return entries

    def purge(self, topic: str) -> int:
        """Close every entry of a topic open at this moment; returns how many were closed.

        Commands that show the entries and ask first close what they showed with ``close_ids``.
        """
        entries = self.list_open(topic)
        self._tombstone(entries)
        return len(entries)

    def _tombstone(self, entries: Iterable[DeadLetter]) -> None:
        # Into the entry's own partition: compaction and readers only pair records of one partition.
        self._produce([(e.dlq_topic, e.dlq_partition, e.entry_id.encode(), None, []) for e in entries])

    def _produce(self, records: list[_Out]) -> None:
        if not records:
            return
        producer = Producer(
            {**self.kafka.confluent_producer_config(), "acks": "all", "enable.idempotence": True}
        )
        errors: list[str] = []

        def on_delivery(err: KafkaError | None, msg: object) -> None:
            if err is not None:
                errors.append(f"{msg.topic()}: {err.str()}")  # type: ignore[attr-defined]

        for topic, partition, key, value, headers in records:
            extra: dict[str, Any] = {} if partition is None else {"partition": partition}
            producer.produce(
                topic, value=value, key=key, headers=cast(Any, headers), on_delivery=on_delivery, **extra
            )
        remaining = producer.flush(self.timeout_s)
        if remaining or errors:
            raise KafkaException(
                f"{remaining} record(s) undelivered after {self.timeout_s:g} s, errors: {errors[:5]}; "
                f"check the broker at {self.kafka.bootstrap_servers}"
            )
