"""`bookshelf logs [SERVICE] [--follow]`: the logs of `bookshelf run`, one readable line per record.

The services write JSON lines to ``$BOOKSHELF_HOME/logs/<service>.log`` (the broker writes its own
format to ``kafka/kafka.log``). This prints them as ``HH:MM:SS level service event key=value ...``
with the service as a coloured prefix, merged by time when several files are read. Lines that are
not JSON (a traceback printed before logging was set up) are printed as they are.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from bookshelf_cli.local import LocalConfig

console = Console(highlight=False)
COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta")
LEVEL_STYLE = {"error": "bold red", "critical": "bold red", "warning": "yellow", "debug": "dim"}
SKIP = {"event", "level", "timestamp", "service", "logger"}
Entry = tuple[str, str, str]  # (sort key: the timestamp, source name, rendered line)


def render(source: str, colour: str, raw: str) -> Entry:
    """One log line as (timestamp, source, rich text)."""
    try:
        record: dict[str, Any] = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "", source, f"[{colour}]{source:<16}[/{colour}] {escape(raw)}"
    if not isinstance(record, dict):
        return "", source, f"[{colour}]{source:<16}[/{colour}] {escape(raw)}"
    stamp = str(record.get("timestamp", ""))
    level = str(record.get("level", "info")).lower()
    style = LEVEL_STYLE.get(level, "default")
    extras = " ".join(f"{k}={escape(str(v))}" for k, v in record.items() if k not in SKIP)
    text = (
        f"[{colour}]{source:<16}[/{colour}] [dim]{stamp[11:19]}[/dim] [{style}]{level:<7} "
        f"{escape(str(record.get('event', '')))}[/{style}] [dim]{extras}[/dim]"
    )
    return stamp, source, text


def log_files(home: Path, services: list[str]) -> dict[str, Path]:
    """The log file of each service asked for (all of them when none is named)."""
    files = {path.stem: path for path in sorted((home / "logs").glob("*.log"))}
    if not services:
        return files
    unknown = [s for s in services if s not in files]
    if unknown:
        known = ", ".join(files) or "none yet (is `bookshelf run` running here?)"
        console.print(f"[red]no log for {', '.join(unknown)} under {home / 'logs'}[/red]; logs: {known}")
        raise typer.Exit(2)
    return {name: files[name] for name in services}


def read_new(handle: Any, partial: str) -> tuple[list[str], str]:
    """Complete lines appended since the last read, and the unfinished tail."""
    chunk = partial + handle.read()
    *lines, rest = chunk.split("\n")
    return [line for line in lines if line.strip()], rest


def colours_of(files: dict[str, Path]) -> dict[str, str]:
    return {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(files)}


def follow(files: dict[str, Path], lines: int, *, forever: bool, interval: float = 0.5) -> Iterator[str]:
    """The last ``lines`` of each file merged by time; then, ``forever``, every new line as written."""
    colours = colours_of(files)
    handles = {name: path.open(errors="replace") for name, path in files.items()}
    partial = dict.fromkeys(files, "")
    start: list[Entry] = []
    for name, handle in handles.items():
        new, partial[name] = read_new(handle, "")
        start += [render(name, colours[name], line) for line in new[-lines:]]
    for entry in sorted(start, key=lambda e: e[0]):
        yield entry[2]
    while forever:
        time.sleep(interval)  # polling files for appended lines, as `tail -f` does
        for name, handle in handles.items():
            new, partial[name] = read_new(handle, partial[name])
            for line in new:
                yield render(name, colours[name], line)[2]


def logs(
    service: Annotated[list[str] | None, typer.Argument(help="Services (default: all of them).")] = None,
    follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="Lines of each log to start with.")] = 20,
) -> None:
    """Show the logs of the services `bookshelf run` started, readable and merged by time."""
    for text in follow(log_files(LocalConfig().home, service or []), lines, forever=follow_):
        console.print(text)
