"""Output helpers shared by the operator commands: rich tables for people, one JSON document for scripts.

Conventions (docs/reference/cli.md): `--json` prints exactly one JSON document on stdout; exit status
0 on success, 1 on a failed check, 2 on bad usage; every failure says what to do next (on stderr, so
stdout stays clean).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.markup import escape

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout (datetimes as ISO-8601, UUIDs as strings)."""
    sys.stdout.write(orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


def fail(message: str, next_step: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print what went wrong and what to do next on stderr, then exit with ``code``."""
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    err.print(f"[yellow]next:[/yellow] {escape(next_step)}", soft_wrap=True)
    raise typer.Exit(code)


def age(seconds: float | None) -> str:
    """A duration for people: ``-``, ``850ms``, ``12.3s``, ``4m05s``, ``2h07m``, ``3d04h``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """A time for people: ``2024-05-01 12:03:04Z (4m05s ago)``; ``-`` when unknown."""
    if moment is None:
        return "-"
    now = now or datetime.now(UTC)
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{stamp} ({age(max(0.0, (now - moment).total_seconds()))} ago)"


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z`` for JSON output; None stays None."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shorten(text: str, limit: int = 80) -> str:
    """The first line of ``text``, cut to ``limit`` characters with an ellipsis."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def plural(count: int, noun: str) -> str:
    """``1 entry``, ``2 entries``, ``0 rows``."""
    if count == 1:
        return f"1 {noun}"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"
