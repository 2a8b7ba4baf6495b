"""How dead letters look: JSON documents for scripts, rich tables and panels for people (no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from bookshelf_cli.output import age, iso, shorten, when

if TYPE_CHECKING:
    from bookshelf_messaging.dlq import DeadLetter


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode(errors="replace")


def payload_of(entry: DeadLetter) -> Any:
    """The original record value: parsed JSON when it is JSON, else its text (None for no value)."""
    if entry.value is None or entry.original_tombstone:
        return None
    try:
        return orjson.loads(entry.value)
    except orjson.JSONDecodeError:
        return entry.value.decode(errors="replace")


def entry_summary(entry: DeadLetter) -> dict[str, Any]:
    """One line of `dlq list --json`."""
    return {
        "id": entry.entry_id,
        "topic": entry.original_topic,
        "dlq_topic": entry.dlq_topic,
        "group": entry.consumer_group,
        "error_type": entry.error_type,
        "error_message": entry.error_message,
        "message_type": entry.message_type,
        "key": _text(entry.original_key),
        "failed_at": iso(entry.last_failed_at),
        "first_failed_at": iso(entry.first_failed_at),
        "attempts": entry.attempts,
        "replay_count": entry.replay_count,
        "original_partition": entry.original_partition,
        "original_offset": entry.original_offset,
    }


def entry_detail(entry: DeadLetter) -> dict[str, Any]:
    """`dlq inspect --json`: the summary plus payload, every header and the stack trace."""
    return {
        **entry_summary(entry),
        "payload": payload_of(entry),
        "replay_refused": entry.replay_refusal(),
        "headers": {name: value.decode(errors="replace") for name, value in entry.headers},
        "stacktrace": entry.stacktrace,
    }


def short_error_type(error_type: str) -> str:
    """``bookshelf_messaging.errors.PermanentError`` -> ``PermanentError``."""
    return error_type.rsplit(".", 1)[-1]


def matches_error_type(entry: DeadLetter, wanted: str | None) -> bool:
    """`--error-type` filter: the full dotted name or its last part, case-insensitively."""
    if not wanted:
        return True
    wanted = wanted.lower()
    return wanted in (entry.error_type.lower(), short_error_type(entry.error_type).lower())


def counts_by_error_type(entries: Iterable[DeadLetter]) -> dict[str, int]:
    """Entries per error type, most frequent first (the `replay-all --dry-run` report)."""
    return dict(Counter(e.error_type or "(unknown)" for e in entries).most_common())


def list_table(entries: list[DeadLetter], now: datetime | None = None) -> Table:
    """The `dlq list` table, newest first as given."""
    now = now or datetime.now(UTC)
    table = Table(title=f"Open dead letters ({len(entries)})", title_justify="left")
    for column in ("id", "topic", "group", "failed", "tries", "replays"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", ratio=1)
    for e in entries:
        failed = "-" if e.last_failed_at is None else age((now - e.last_failed_at).total_seconds()) + " ago"
        table.add_row(
            e.entry_id,
            escape(e.original_topic),
            escape(e.consumer_group),
            failed,
            str(e.attempts),
            str(e.replay_count),
            f"[bold]{escape(short_error_type(e.error_type))}[/bold]: {escape(shorten(e.error_message, 70))}",
        )
    return table


def inspect_view(entry: DeadLetter) -> RenderableType:
    """`dlq inspect`: facts, error, payload, headers and stack trace."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for name, value in (
        (
            "topic",
            f"{entry.original_topic} [partition {entry.original_partition}, offset {entry.original_offset}]",
        ),
        ("group", entry.consumer_group),
        ("message type", entry.message_type or "-"),
        ("key", _text(entry.original_key) or "-"),
        ("attempts", str(entry.attempts)),
        ("replayed", f"{entry.replay_count} time(s)"),
        ("first failed", when(entry.first_failed_at)),
        ("last failed", when(entry.last_failed_at)),
        ("stored in", f"{entry.dlq_topic} (partition {entry.dlq_partition}, offset {entry.dlq_offset})"),
    ):
        facts.add_row(name, Text(value))
    payload = payload_of(entry)
    shown = (
        orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode()
        if not isinstance(payload, str)
        else payload
    )
    headers = Table("header", "value", box=None)
    for header_name, raw in entry.headers:
        if header_name != "dlq.stacktrace":
            headers.add_row(header_name, Text(shorten(raw.decode(errors="replace"), 100)))
    refusal = entry.replay_refusal()
    if refusal is not None:
        facts.add_row("replay", Text(f"refused: {refusal}", style="yellow"))
    return Group(
        Panel(facts, title=f"dead letter {entry.entry_id}", title_align="left"),
        Panel(
            Text(f"{entry.error_type}: {entry.error_message}", style="red"), title="error", title_align="left"
        ),
        Panel(Syntax(shown, "json", word_wrap=True), title="payload", title_align="left"),
        Panel(headers, title="headers", title_align="left"),
        Panel(Text(entry.stacktrace or "(none)"), title="stack trace", title_align="left"),
    )


def counts_table(title: str, counts: dict[str, int]) -> Table:
    """A two-column table of counts (dry runs, purges)."""
    table = Table(title=title, title_justify="left")
    table.add_column("error type")
    table.add_column("entries", justify="right")
    for name, count in counts.items():
        table.add_row(escape(name), str(count))
    return table
