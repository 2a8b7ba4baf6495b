"""Cancellation reasons as people read them (the saga's CancelOrder carries the short lines apart)."""

from __future__ import annotations

from collections.abc import Sequence

from bookshelf_contracts import ShortLine

from bookshelf_ordering.domain.model import MAX_REASON_LENGTH

CUSTOMER_REQUEST = "customer request"


def describe_short_line(line: ShortLine) -> str:
    """``book <id> requested 3, available 1``."""
    return f"book {line.book_id} requested {line.requested}, available {line.available}"


def cancellation_reason(reason: str, short_lines: Sequence[ShortLine] = ()) -> str:
    """``reason`` plus the short lines, cut to fit the 1000 characters a reason may have.

    Lines that do not fit are counted (``...; and 12 more``) so the text never claims to be complete.
    """
    text = reason.strip()
    if not short_lines:
        return text[:MAX_REASON_LENGTH]
    parts = [describe_short_line(line) for line in short_lines]
    for shown in range(len(parts), -1, -1):
        candidate = text + ": " + "; ".join(parts[:shown]) if shown else text
        if shown < len(parts):
            candidate += f"{'; ' if shown else ': '}and {len(parts) - shown} more short line(s)"
        if len(candidate) <= MAX_REASON_LENGTH:
            return candidate
    return text[:MAX_REASON_LENGTH]
