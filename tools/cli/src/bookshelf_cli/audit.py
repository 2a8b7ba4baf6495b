"""`bookshelf audit`: the cross-service invariants of docs/domain.md, checked over every service's data.

Sagas in flight are not drift: a violation only counts when it is still there after re-checking for
`--settle-timeout` seconds (a reservation released a moment after its order was cancelled, say).
Exit status 0 when every invariant holds, 1 on drift or when a part could not be read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from bookshelf_cli.audit_checks import Violation, run_checks
from bookshelf_cli.audit_data import Snapshot, SourceError, read_snapshot
from bookshelf_cli.connect import START_HINT, service_url, spec
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.output import EXIT_FAILED, emit_json, fail, out, plural
from bookshelf_cli.services import installed_services

Audit = tuple[Snapshot, list[Violation]]


def settle(
    run_once: Callable[[], Audit],
    timeout_s: float,
    interval_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Audit, int]:
    """Re-check while violations remain and time is left; keep only those present in every round.

    Returns the last snapshot with the persistent violations (latest details) and the rounds run.
    """
    deadline = clock() + timeout_s
    snapshot, violations = run_once()
    rounds = 1
    while violations and clock() + interval_s <= deadline:
        sleep(interval_s)
        snapshot, current = run_once()
        rounds += 1
        persistent = {v.key for v in violations}
        violations = [v for v in current if v.key in persistent]
    return (snapshot, violations), rounds


def _database_urls(config: LocalConfig) -> dict[str, str]:
    urls = {name: config.database_url(spec(name)) for name in ("ordering", "inventory", "shipping")}
    return {name: url for name, url in urls.items() if url}


def _fulfillment_url(skip_sagas: bool) -> tuple[str | None, str | None]:
    """The saga web view to read, or why sagas are not checked."""
    if skip_sagas:
        return None, "saga states not checked (--skip-sagas)"
    if "FULFILLMENT_URL" in os.environ or any(s.name == "fulfillment" for s in installed_services()):
        return service_url("fulfillment"), None
    return None, "saga states not checked: the fulfillment service is not installed here"


def _read(urls: dict[str, str], fulfillment: str | None) -> Audit:
    snapshot = read_snapshot(urls, fulfillment)
    return snapshot, run_checks(snapshot)


def _incomplete(exc: SourceError, json_output: bool) -> None:
    """A source could not be read: exit 1 (scripts also get `{"ok": false, "error"}` on stdout)."""
    if json_output:
        emit_json({"ok": False, "violations": [], "error": f"audit incomplete: {exc}"})
    fail(f"audit incomplete: {exc}", f"fix that and run `bookshelf audit` again ({START_HINT})")


def violations_table(violations: list[Violation]) -> Table:
    """Each violation with its check, id and what disagrees."""
    table = Table(title=f"Drift: {plural(len(violations), 'violation')}", title_justify="left")
    table.add_column("check", style="red", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column("what is wrong")
    for v in violations:
        table.add_row(v.check, v.subject, escape(v.detail))
    return table


def audit_view(snapshot: Snapshot, violations: list[Violation], notes: list[str]) -> RenderableType:
    """The violations (or the all-clear), what was checked, and notes."""
    counts = ", ".join(f"{plural(n, k[:-1])}" for k, n in snapshot.counts().items() if n is not None)
    parts: list[RenderableType] = [f"[dim]{escape(note)}[/dim]" for note in notes]
    if violations:
        parts.insert(0, violations_table(violations))
        parts.append(f"Checked {counts}. Each id is an order id or a book id; see docs/operations.md#audit.")
    else:
        parts.insert(0, f"[green]All invariants hold[/green] ({counts}).")
    return Group(*parts)


def audit_document(
    snapshot: Snapshot, violations: list[Violation], notes: list[str], settle_s: float, rounds: int
) -> dict[str, Any]:
    """The `audit --json` document."""
    return {
        "ok": not violations,
        "violations": [{"check": v.check, "id": v.subject, "detail": v.detail} for v in violations],
        "checked": snapshot.counts(),
        "notes": notes,
        "settle_timeout_s": settle_s,
        "rounds": rounds,
    }


def audit(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of tables.")
    ] = False,
    settle_timeout: Annotated[
        float,
        typer.Option(
            "--settle-timeout", min=0, help="Seconds to re-check violations before calling them drift."
        ),
    ] = 10.0,
    skip_sagas: Annotated[
        bool, typer.Option("--skip-sagas", help="Do not read the fulfillment service.")
    ] = False,
) -> None:
    """Check the cross-service invariants (stock conservation, reservations vs orders, saga vs order
    status, shipments of cancelled orders); print each violation with its ids; exit 1 on drift."""
    urls = _database_urls(LocalConfig())
    fulfillment, note = _fulfillment_url(skip_sagas)
    notes = [note] if note else []
    try:
        (snapshot, violations), rounds = settle(lambda: _read(urls, fulfillment), settle_timeout)
    except SourceError as exc:
        _incomplete(exc, json_output)
        return
    if json_output:
        emit_json(audit_document(snapshot, violations, notes, settle_timeout, rounds))
    else:
        out.print(audit_view(snapshot, violations, notes))
    if violations:
        raise typer.Exit(EXIT_FAILED)
