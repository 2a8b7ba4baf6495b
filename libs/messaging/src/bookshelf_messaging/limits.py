"""The record size every Bookshelf producer, topic and outbox agrees on: one value, defined here.

``MAX_MESSAGE_BYTES`` is

- the outbox relay producer's ``message.max.bytes`` (librdkafka refuses a bigger record in
  ``produce()`` with MSG_SIZE_TOO_LARGE) and its ``batch.size``;
- the ``max.message.bytes`` of the event topics and their bulk lanes (the broker refuses a bigger
  record batch), applied by topic admin;
- the bound ``Outbox.add`` / ``add_many`` check, so an event that could never be published is refused
  in the transaction that writes it (``MessageTooLarge``; HTTP answers 413) instead of reaching the
  relay. The check leaves ``FRAMING_BYTES`` for the batch header and each record's varints.

1,000,000 is librdkafka's default and below Apache Kafka's own default (1,048,588), so a topic
created without the setting still takes every record the relay may send.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_MESSAGE_BYTES = 1_000_000
# Dead-letter topics take a record of the largest size above plus its failure headers (stack trace,
# error, origin): twice the limit leaves ample room, so a dead letter is kept whole.
DLQ_MAX_MESSAGE_BYTES = 2 * MAX_MESSAGE_BYTES
FRAMING_BYTES = 1_024  # record batch header (61 bytes), record and header varints, with room to spare
MAX_RECORD_BYTES = MAX_MESSAGE_BYTES - FRAMING_BYTES


def record_size(key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> int:
    """Bytes of a record's key, value, header names and header values (framing not counted)."""
    size = len(key or b"") + len(value or b"")
    for name, header_value in headers:
        size += len(name.encode()) + len(header_value)
    return size
