"""Dead letters of records the saga cannot handle, in the format every Bookshelf consumer writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka.errors import MessageSizeTooLargeError
from bookshelf_messaging.dlq import Failure, build_dead_letter, truncated

from bookshelf_fulfillment.adapters.records import OutgoingRecord


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """What the DLQ needs of a consumed record (``bookshelf_messaging.dlq.RecordLike``)."""

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


def dead_letter_record(
    record: ConsumedRecord,
    group: str,
    error: BaseException,
    attempts: int,
    first_failed_at: datetime,
    now: datetime,
    *,
    truncate: bool = False,
) -> OutgoingRecord:
    """The ``<topic>.dlq`` record of ``record`` failing with ``error`` (entry id as key); ``truncate``
    cuts the value (with ``dlq.value_truncated``) for a record the broker refuses whole."""
    failure = Failure(error=error, attempts=attempts, first_failed_at=first_failed_at, last_failed_at=now)
    letter = build_dead_letter(record, group, failure)
    if truncate:
        letter = truncated(letter)
    return OutgoingRecord(letter.topic, letter.key.encode(), letter.value or b"", letter.headers)


def too_large(error: BaseException) -> bool:
    """Whether sending failed because the record is too large (faust wraps aiokafka's error)."""
    return isinstance(error, MessageSizeTooLargeError) or isinstance(
        error.__cause__, MessageSizeTooLargeError
    )
