"""One Kafka record -> the metadata the index keeps (pure; shared by the indexer and the topic scan).

Headers carry ``message_id``, ``type``, ``correlation_id``, ``causation_id`` and ``traceparent`` (whose
W3C trace id is kept, to link a tracing UI) (docs/reference/kafka.md); the envelope in the value adds ``producer``, ``occurred_at`` and
``version``. A value that is not a JSON envelope (a poison record) is still indexed from whatever its
headers say, with ``valid=False``. A record of a ``.dlq`` topic is also a dead letter (its ``dlq.*``
headers parsed); a ``.dlq`` record without a value is a tombstone that closes the entry with its key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from bookshelf_contracts.topics import DLQ_SUFFIX
from bookshelf_messaging.dlq import H_REPLAY_COUNT, DeadLetter, header

HeaderList = Sequence[tuple[str, bytes | None]]
ENVELOPE_KEYS = frozenset(("message_id", "type", "correlation_id", "producer", "data"))
TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")


@dataclass(frozen=True, slots=True)
class IndexedMessage:
    """The metadata of one record of any topic."""

    topic: str
    partition: int
    offset: int
    key: str | None
    message_id: str | None
    type: str | None
    version: int | None
    correlation_id: str | None
    causation_id: str | None
    producer: str | None
    occurred_at: datetime | None
    timestamp: datetime | None
    size: int
    replay_count: int
    valid: bool
    trace_id: str | None = None  # W3C trace id of the record's ``traceparent`` header


@dataclass(frozen=True, slots=True)
class DeadLetterMeta:
    """A record of a ``.dlq`` topic: where the original was, who failed it, and why."""

    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    entry_id: str
    original_topic: str
    original_partition: int
    original_offset: int
    consumer_group: str
    error_type: str
    error_message: str
    stacktrace: str
    attempts: int
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    replay_count: int
    message_id: str | None
    message_type: str | None
    correlation_id: str | None
    value: bytes | None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A ``.dlq`` record without a value: the entry ``entry_id`` was replayed or purged."""

    dlq_topic: str
    partition: int
    offset: int
    entry_id: str
    timestamp: datetime | None


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one record contributes to the index."""

    message: IndexedMessage | None = None
    dead_letter: DeadLetterMeta | None = None
    tombstone: Tombstone | None = None


def ms_to_datetime(timestamp_ms: int | None) -> datetime | None:
    """A Kafka record timestamp (ms since the epoch) as an aware UTC datetime."""
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


def _text(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    return text or None


def _envelope(value: bytes | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` (``00-<32 hex>-<16 hex>-<2 hex>``), or None when it is not
    one (absent, malformed, or the all-zero invalid id)."""
    if not traceparent:
        return None
    match = TRACEPARENT.fullmatch(traceparent.strip().lower())
    if match is None or match.group(2) == "0" * 32 or match.group(1) == "ff":
        return None
    return match.group(2)


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def message_of(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    value: bytes | None,
    headers: HeaderList,
    timestamp_ms: int | None,
) -> IndexedMessage:
    """The index row of one record (headers first, then the envelope)."""
    env = _envelope(value)
    # Only an envelope speaks for the message: other JSON (a saga's state) may carry look-alike keys.
    is_envelope = env is not None and env.keys() >= ENVELOPE_KEYS
    body: dict[str, Any] = env if env is not None and is_envelope else {}

    def field(name: str) -> str | None:
        from_header = _text(header(headers, name))
        return from_header or _text(body.get(name) if isinstance(body.get(name), str) else None)

    replay = _text(header(headers, H_REPLAY_COUNT))
    return IndexedMessage(
        topic=topic,
        partition=partition,
        offset=offset,
        key=_text(key),
        message_id=field("message_id"),
        type=field("type"),
        version=_int(body.get("version")),
        correlation_id=field("correlation_id"),
        causation_id=field("causation_id"),
        producer=_text(body.get("producer")) if isinstance(body.get("producer"), str) else None,
        occurred_at=_time(body.get("occurred_at")),
        timestamp=ms_to_datetime(timestamp_ms),
        size=len(value or b""),
        replay_count=int(replay) if replay and replay.isdigit() else 0,
        valid=is_envelope,
        trace_id=trace_id_of(_text(header(headers, "traceparent"))),
    )


def dead_letter_of(message: IndexedMessage, value: bytes | None, headers: HeaderList) -> DeadLetterMeta:
    """The dead-letter part of a ``.dlq`` record (``DeadLetter.from_record`` parses the headers)."""
    letter = DeadLetter.from_record(
        message.topic, message.partition, message.offset, message.key or "", value, headers
    )
    return DeadLetterMeta(
        dlq_topic=message.topic,
        dlq_partition=message.partition,
        dlq_offset=message.offset,
        entry_id=letter.entry_id,
        original_topic=letter.original_topic,
        original_partition=letter.original_partition,
        original_offset=letter.original_offset,
        consumer_group=letter.consumer_group,
        error_type=letter.error_type,
        error_message=letter.error_message,
        stacktrace=letter.stacktrace,
        attempts=letter.attempts,
        first_failed_at=letter.first_failed_at,
        last_failed_at=letter.last_failed_at,
        replay_count=letter.replay_count,
        message_id=message.message_id,
        message_type=message.type,
        correlation_id=message.correlation_id,
        value=value,
    )


def parse_record(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    value: bytes | None,
    headers: HeaderList,
    timestamp_ms: int | None,
) -> Parsed:
    """Everything the index learns from one record of ``topic``."""
    is_dlq = topic.endswith(DLQ_SUFFIX)
    if is_dlq and value is None:
        entry = _text(key) or ""
        return Parsed(tombstone=Tombstone(topic, partition, offset, entry, ms_to_datetime(timestamp_ms)))
    message = message_of(topic, partition, offset, key, value, headers, timestamp_ms)
    if not is_dlq:
        return Parsed(message=message)
    return Parsed(message=message, dead_letter=dead_letter_of(message, value, headers))
