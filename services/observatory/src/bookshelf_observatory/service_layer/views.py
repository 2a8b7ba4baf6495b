"""JSON views of index rows (dead letters) shared by the API and the pages."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from bookshelf_observatory.domain.records import DeadLetterMeta


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z`` (None stays None)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def payload_view(value: bytes | None) -> dict[str, Any]:
    """A record value for humans: pretty JSON, text, or base64 for binary."""
    if value is None:
        return {"encoding": "none", "text": ""}
    try:
        return {
            "encoding": "json",
            "text": orjson.dumps(orjson.loads(value), option=orjson.OPT_INDENT_2).decode(),
        }
    except orjson.JSONDecodeError:
        pass
    try:
        return {"encoding": "text", "text": value.decode()}
    except UnicodeDecodeError:
        return {"encoding": "base64", "text": base64.b64encode(value).decode()}


def dead_letter_summary(letter: DeadLetterMeta) -> dict[str, Any]:
    """One row of the dead-letter list."""
    return {
        "entry_id": letter.entry_id,
        "dlq_topic": letter.dlq_topic,
        "original_topic": letter.original_topic,
        "original_partition": letter.original_partition,
        "original_offset": letter.original_offset,
        "consumer_group": letter.consumer_group,
        "error_type": letter.error_type,
        "error_message": letter.error_message,
        "attempts": letter.attempts,
        "replay_count": letter.replay_count,
        "first_failed_at": iso(letter.first_failed_at),
        "last_failed_at": iso(letter.last_failed_at),
        "message_id": letter.message_id,
        "message_type": letter.message_type,
        "correlation_id": letter.correlation_id,
        "open": letter.closed_at is None,
        "closed_at": iso(letter.closed_at),
    }


def dead_letter_detail(letter: DeadLetterMeta) -> dict[str, Any]:
    """An entry with its stack trace and payload."""
    return {
        **dead_letter_summary(letter),
        "stacktrace": letter.stacktrace,
        "payload": payload_view(letter.value),
    }
