"""``bookshelf trace`` without the observatory: read every topic from the beginning and filter.

``bookshelf_messaging.scan`` reads every topic the indexer reads (``OBSERVATORY_TOPIC_PATTERN``) from
its beginning to the end each partition had when the scan started. Records are kept by their
``correlation_id`` header (or, for an order id, their key); tombstones of ``.dlq`` topics close the entries they name. Then the same tree builder as
the index runs. Slower than the index (it reads everything), but needs nothing but the broker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bookshelf_contracts.topics import DLQ_SUFFIX
from bookshelf_messaging import KafkaSettings
from bookshelf_messaging.scan import scan_to_end
from confluent_kafka import Message

from bookshelf_observatory.config import TOPIC_PATTERN
from bookshelf_observatory.domain.records import DeadLetterMeta, IndexedMessage, Tombstone, parse_record
from bookshelf_observatory.domain.trace import Trace, build_trace


@dataclass
class _Found:
    messages: list[IndexedMessage] = field(default_factory=list)
    dead_letters: list[DeadLetterMeta] = field(default_factory=list)
    tombstones: list[Tombstone] = field(default_factory=list)


def _headers(msg: Message) -> list[tuple[str, bytes | None]]:
    raw = msg.headers() or []
    pairs = list(raw.items()) if isinstance(raw, dict) else raw
    return [(k, v if isinstance(v, bytes | None) else str(v).encode()) for k, v in pairs]


def _header(headers: list[tuple[str, bytes | None]], name: str) -> str | None:
    value = next((v for k, v in reversed(headers) if k == name), None)
    return value.decode(errors="replace") if value else None


class TopicScan:
    """One scan over every topic (or ``topics``) of the broker."""

    def __init__(
        self,
        kafka: KafkaSettings,
        *,
        topics: list[str] | None = None,
        pattern: str = TOPIC_PATTERN,
        timeout_s: float = 120.0,
    ):
        self.kafka = kafka
        self.topics = topics
        self.pattern = re.compile(pattern)
        self.timeout_s = timeout_s

    def trace(self, query: str) -> Trace | None:
        """The causation forest of a correlation id or an order id; None when nothing matches."""
        first = self._scan(lambda cid, key: cid == query or key == query)
        ids = sorted({m.correlation_id for m in first.messages if m.correlation_id == query})
        if not ids:
            keyed = [m for m in first.messages if m.key == query and m.correlation_id]
            ids = list(dict.fromkeys(m.correlation_id for m in sorted(keyed, key=_when) if m.correlation_id))
            if not ids:
                return None
            wanted = set(ids)
            first = self._scan(lambda cid, key: cid in wanted)
        return _trace(query, ids, first)

    def _scan(self, keep: Any) -> _Found:
        found = _Found()

        def wanted(name: str) -> bool:
            return name in self.topics if self.topics is not None else bool(self.pattern.match(name))

        scan_to_end(
            self.kafka,
            wanted,
            lambda msg: _collect(found, msg, keep),
            group_prefix="bookshelf-trace-scan-",
            timeout_s=self.timeout_s,
            what="scanning the topics",
            metadata_timeout_s=min(self.timeout_s, 15.0),
        )
        return found


def _collect(found: _Found, msg: Message, keep: Any) -> None:
    topic, value = msg.topic() or "", msg.value()
    headers = _headers(msg)
    raw_key = msg.key()
    key = raw_key.decode(errors="replace") if isinstance(raw_key, bytes) else raw_key
    is_tombstone = topic.endswith(DLQ_SUFFIX) and value is None
    if not is_tombstone and not keep(_header(headers, "correlation_id"), key):
        return
    _, timestamp_ms = msg.timestamp()
    parsed = parse_record(
        topic, msg.partition() or 0, msg.offset() or 0, raw_key, value, headers, timestamp_ms
    )
    if parsed.message is not None:
        found.messages.append(parsed.message)
    if parsed.dead_letter is not None:
        found.dead_letters.append(parsed.dead_letter)
    if parsed.tombstone is not None:
        found.tombstones.append(parsed.tombstone)


def _when(message: IndexedMessage) -> Any:
    return (message.timestamp is None, message.timestamp)


def _trace(query: str, ids: list[str], found: _Found) -> Trace:
    wanted = set(ids)
    letters = []
    for letter in found.dead_letters:
        if letter.correlation_id not in wanted:
            continue
        closing = next(
            (
                t
                for t in found.tombstones
                if (t.dlq_topic, t.partition, t.entry_id)
                == (letter.dlq_topic, letter.dlq_partition, letter.entry_id)
                and t.offset > letter.dlq_offset
            ),
            None,
        )
        letters.append(
            replace(letter, closed_at=closing.timestamp or datetime.now(UTC)) if closing else letter
        )
    messages = [m for m in found.messages if m.correlation_id in wanted]
    return build_trace(query, ids, messages, letters)
