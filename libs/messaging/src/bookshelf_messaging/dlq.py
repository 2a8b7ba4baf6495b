"""Dead letters: the record written to ``<topic>.dlq`` and its parsed form.

A dead letter keeps the original value and headers and adds the ``dlq.*`` headers of
docs/reference/kafka.md (plus ``dlq.original_key``, since the record key of a dead letter is its
entry id: the DLQ topic is compacted by entry id, so replaying or closing an entry is a tombstone for
that key). The entry id is a short hash of group/topic/partition/offset: writing the same failure
twice (a crash between the DLQ write and the offset commit) yields one entry.

A replay re-publishes the original record with ``dlq.replay_group`` naming the group that failed it:
only that group handles it, every other group skips it (``replay_target_of``), so a record that
failed in several groups is not multiplied by its replays nor applied again where it had succeeded.
A record without a value (a tombstone on an event topic) is dead-lettered with an empty value and
``dlq.original_tombstone``: a null value would itself be a tombstone on the compacted DLQ, closing
nothing and showing nowhere. Neither it nor a letter whose value was cut
(``dlq.value_truncated``) can be replayed (``replay_refusal``).
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from bookshelf_contracts import dlq, primary

from bookshelf_messaging.errors import InfrastructureError

H_PREFIX = "dlq."
H_ORIGINAL_TOPIC = "dlq.original_topic"
H_ORIGINAL_PARTITION = "dlq.original_partition"
H_ORIGINAL_OFFSET = "dlq.original_offset"
H_ORIGINAL_KEY = "dlq.original_key"
H_GROUP = "dlq.consumer_group"
H_ERROR_TYPE = "dlq.error_type"
H_ERROR_MESSAGE = "dlq.error_message"
H_STACKTRACE = "dlq.stacktrace"
H_ATTEMPTS = "dlq.attempts"
H_FIRST_FAILED_AT = "dlq.first_failed_at"
H_LAST_FAILED_AT = "dlq.last_failed_at"
H_REPLAY_COUNT = "dlq.replay_count"
H_VALUE_TRUNCATED = "dlq.value_truncated"  # original value size, when the broker refused it whole
H_ORIGINAL_TOMBSTONE = "dlq.original_tombstone"  # "true": the original record had no value
H_REPLAY_GROUP = "dlq.replay_group"  # on a replayed record: the only consumer group that handles it

# Kafka headers travel with every fetch of the record; keep error text bounded.
MAX_ERROR_MESSAGE = 2_000
MAX_STACKTRACE = 16_000
TRUNCATED_VALUE_BYTES = 64 * 1024

Headers = list[tuple[str, bytes]]


class RecordLike(Protocol):
    """What the DLQ needs from a consumed record (aiokafka's ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


def entry_id(group: str, topic: str, partition: int, offset: int) -> str:
    """Deterministic DLQ entry id: 16 hex digits of sha256 over group, topic, partition, offset."""
    raw = f"{group}\x1f{topic}\x1f{partition}\x1f{offset}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def dlq_topic_for(topic: str) -> str:
    """``x`` and its bulk lane ``x.bulk`` both dead-letter into ``x.dlq``."""
    return dlq(primary(topic))


def header(headers: Sequence[tuple[str, bytes | None]], name: str) -> bytes | None:
    """The last value of header ``name`` (None when absent)."""
    found: bytes | None = None
    for key, value in headers:
        if key == name:
            found = value
    return found


def replay_count_of(headers: Sequence[tuple[str, bytes | None]]) -> int:
    """``dlq.replay_count`` of a record (0 when absent or unreadable)."""
    raw = header(headers, H_REPLAY_COUNT)
    try:
        return int(raw.decode()) if raw else 0
    except ValueError:
        return 0


def replay_target_of(headers: Sequence[tuple[str, bytes | None]]) -> str | None:
    """The consumer group a replayed record is addressed to (None: not a replay, or for every group)."""
    raw = header(headers, H_REPLAY_GROUP)
    return raw.decode(errors="replace") if raw else None


def strip_dlq_headers(headers: Sequence[tuple[str, bytes | None]]) -> Headers:
    """The headers without any ``dlq.*`` entry (None values become b"")."""
    return [(k, v or b"") for k, v in headers if not k.startswith(H_PREFIX)]


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with ``Z``, the form of every DLQ time header."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_error(error: BaseException) -> tuple[str, str, str]:
    """``(error type, message, stack trace)`` of an exception, each bounded in size."""
    error_type = f"{type(error).__module__}.{type(error).__qualname__}".removeprefix("builtins.")
    message = str(error)[:MAX_ERROR_MESSAGE]
    stack = "".join(traceback.format_exception(error))
    if len(stack) > MAX_STACKTRACE:  # keep the end: the innermost frames say what broke
        stack = "...\n" + stack[-MAX_STACKTRACE:]
    return error_type, message, stack


@dataclass(frozen=True, slots=True)
class Failure:
    """How a record failed: the last error, the number of attempts and when failures began and ended."""

    error: BaseException
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime


def dead_letter_headers(record: RecordLike, group: str, failure: Failure) -> Headers:
    """Original headers (minus old ``dlq.*``) plus the ``dlq.*`` headers describing ``failure``."""
    error_type, message, stack = format_error(failure.error)
    headers = strip_dlq_headers(record.headers)
    extra: list[tuple[str, str]] = [
        (H_ORIGINAL_TOPIC, record.topic),
        (H_ORIGINAL_PARTITION, str(record.partition)),
        (H_ORIGINAL_OFFSET, str(record.offset)),
        (H_GROUP, group),
        (H_ERROR_TYPE, error_type),
        (H_ERROR_MESSAGE, message),
        (H_STACKTRACE, stack),
        (H_ATTEMPTS, str(failure.attempts)),
        (H_FIRST_FAILED_AT, iso(failure.first_failed_at)),
        (H_LAST_FAILED_AT, iso(failure.last_failed_at)),
        (H_REPLAY_COUNT, str(replay_count_of(record.headers))),
    ]
    headers.extend((k, v.encode()) for k, v in extra)
    if record.key is not None:
        headers.append((H_ORIGINAL_KEY, record.key))
    return headers


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """The record to produce for a dead letter: topic, key (entry id), original value, headers."""

    topic: str
    key: str
    value: bytes | None
    headers: Headers


def build_dead_letter(record: RecordLike, group: str, failure: Failure) -> DeadLetterRecord:
    """Everything the DLQ writer produces for ``record`` failing with ``failure`` in ``group``."""
    headers = dead_letter_headers(record, group, failure)
    if record.value is None:  # a null value would be a tombstone on the compacted DLQ: invisible
        headers.append((H_ORIGINAL_TOMBSTONE, b"true"))
    return DeadLetterRecord(
        topic=dlq_topic_for(record.topic),
        key=entry_id(group, record.topic, record.partition, record.offset),
        value=b"" if record.value is None else record.value,
        headers=headers,
    )


def truncated(letter: DeadLetterRecord) -> DeadLetterRecord:
    """The letter with its value cut to ``TRUNCATED_VALUE_BYTES`` and ``dlq.value_truncated`` set to
    the original size: for a record too large for the DLQ topic, a trace beats a blocked partition
    (the whole record stays at ``dlq.original_topic``/``partition``/``offset`` until retention)."""
    value = letter.value or b""
    headers = [*letter.headers, (H_VALUE_TRUNCATED, str(len(value)).encode())]
    return replace(letter, value=value[:TRUNCATED_VALUE_BYTES], headers=headers)


def _text(headers: Sequence[tuple[str, bytes | None]], name: str) -> str:
    raw = header(headers, name)
    return raw.decode(errors="replace") if raw else ""


def _int(headers: Sequence[tuple[str, bytes | None]], name: str) -> int:
    try:
        return int(_text(headers, name) or 0)
    except ValueError:
        return 0


def _time(headers: Sequence[tuple[str, bytes | None]], name: str) -> datetime | None:
    try:
        return datetime.fromisoformat(_text(headers, name))
    except ValueError:
        return None


@dataclass(frozen=True)
class DeadLetter:
    """An open dead-letter entry, with every ``dlq.*`` header parsed."""

    entry_id: str
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    original_topic: str
    original_partition: int
    original_offset: int
    original_key: bytes | None
    consumer_group: str
    error_type: str
    error_message: str
    stacktrace: str
    attempts: int
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    replay_count: int
    value: bytes | None
    headers: Headers = field(default_factory=list)

    @property
    def original_headers(self) -> Headers:
        """The headers the original record carried (no ``dlq.*``)."""
        return strip_dlq_headers(self.headers)

    @property
    def message_type(self) -> str | None:
        """The envelope type from the ``type`` header, when the original had one."""
        raw = header(self.headers, "type")
        return raw.decode(errors="replace") if raw else None

    @classmethod
    def from_record(
        cls,
        dlq_topic: str,
        partition: int,
        offset: int,
        key: str,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
    ) -> DeadLetter:
        """Parse one record of a ``.dlq`` topic."""
        return cls(
            entry_id=key,
            dlq_topic=dlq_topic,
            dlq_partition=partition,
            dlq_offset=offset,
            original_topic=_text(headers, H_ORIGINAL_TOPIC),
            original_partition=_int(headers, H_ORIGINAL_PARTITION),
            original_offset=_int(headers, H_ORIGINAL_OFFSET),
            original_key=header(headers, H_ORIGINAL_KEY),
            consumer_group=_text(headers, H_GROUP),
            error_type=_text(headers, H_ERROR_TYPE),
            error_message=_text(headers, H_ERROR_MESSAGE),
            stacktrace=_text(headers, H_STACKTRACE),
            attempts=_int(headers, H_ATTEMPTS),
            first_failed_at=_time(headers, H_FIRST_FAILED_AT),
            last_failed_at=_time(headers, H_LAST_FAILED_AT),
            replay_count=_int(headers, H_REPLAY_COUNT),
            value=value,
            headers=[(k, v or b"") for k, v in headers],
        )

    @property
    def truncated_from(self) -> int | None:
        """The original value's size when the letter keeps only its first bytes (else None)."""
        raw = header(self.headers, H_VALUE_TRUNCATED)
        return _int(self.headers, H_VALUE_TRUNCATED) if raw else None

    @property
    def original_tombstone(self) -> bool:
        """True when the original record had no value (a tombstone on an event topic)."""
        return header(self.headers, H_ORIGINAL_TOMBSTONE) == b"true"

    def replay_refusal(self) -> str | None:
        """Why this entry cannot be replayed as it is, with what to do instead (None: it can)."""
        where = f"{self.original_topic} partition {self.original_partition} offset {self.original_offset}"
        if self.truncated_from is not None:
            return (
                f"dead letter {self.entry_id} keeps only the first {len(self.value or b'')} of the record's "
                f"{self.truncated_from} bytes (dlq.value_truncated): a replay would publish a cut record. "
                f"The whole record is still at {where} until the topic's retention removes it: fix the "
                "consumer and re-publish it from there, then close this entry"
            )
        if self.original_tombstone:
            return (
                f"dead letter {self.entry_id} is a record without a value (a tombstone) from {where}: "
                "there is nothing to replay. Find the producer that wrote it, then close this entry"
            )
        return None

    def replay_headers(self) -> Headers:
        """Headers for re-publishing: the original ones, ``dlq.replay_count`` incremented and
        ``dlq.replay_group`` naming the group that failed (the only one that handles the replay)."""
        return [
            *self.original_headers,
            (H_REPLAY_COUNT, str(self.replay_count + 1).encode()),
            (H_REPLAY_GROUP, self.consumer_group.encode()),
        ]


async def write_dead_letter(
    producer: AIOKafkaProducer, record: RecordLike, group: str, failure: Failure
) -> DeadLetterRecord:
    """Produce the dead letter of ``record`` and wait until the broker acknowledged it.

    A letter the broker refuses as too large is written again with its value cut (``truncated``).
    Any other broker error raises ``InfrastructureError``: a dead letter that was not written must
    never let its record be acknowledged, so the caller retries the record later.
    """
    letter = build_dead_letter(record, group, failure)
    try:
        try:
            await _send_letter(producer, letter)
        except MessageSizeTooLargeError:  # the broker's limit for the DLQ topic is lower
            letter = truncated(letter)
            await _send_letter(producer, letter)
    except KafkaError as exc:
        raise InfrastructureError(f"writing dead letter to {letter.topic} failed: {exc!r}") from exc
    return letter


async def _send_letter(producer: AIOKafkaProducer, letter: DeadLetterRecord) -> None:
    await producer.send_and_wait(
        letter.topic, value=letter.value, key=letter.key.encode(), headers=letter.headers
    )
