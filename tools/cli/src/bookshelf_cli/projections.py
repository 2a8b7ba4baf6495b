"""`bookshelf projections rebuild NAME`: rebuild a storefront read model from the topics without downtime.

Thin: the rebuild itself is `bookshelf_storefront.rebuild` (new table generation filled from the
topics while the old one serves, then an atomic switch). This module picks the addresses, draws the
progress bars and the summary, and turns failures into exit status 1 with what to do next.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bookshelf_cli.local import LocalConfig
from bookshelf_cli.services import SERVICES

if TYPE_CHECKING:
    from bookshelf_storefront.rebuild import RebuildReport

NAMES = ("storefront", "catalog", "reports", "tracking", "all")
projections_app = typer.Typer(help="Storefront read models (storefront-query).", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def _addresses() -> tuple[str, str]:
    """The storefront database URL and the Kafka bootstrap servers, from the environment or the defaults."""
    config = LocalConfig()
    spec = next(s for s in SERVICES if s.name == "storefront-query")
    url = config.database_url(spec)
    assert url is not None  # storefront-query has a database
    return url, config.kafka_bootstrap


class _Bars:
    """One rich progress bar per (read model, phase), fed by the rebuild's progress callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[tuple[str, str], TaskID] = {}

    def __call__(self, model: str, phase: str, done: int, total: int | None) -> None:
        key = (model, phase)
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(f"{model}: {phase}", total=total)
        self.progress.update(self.tasks[key], completed=done, total=total)


def _summary(reports: list[RebuildReport]) -> Table:
    table = Table(title="projections rebuild")
    for column in ("read model", "generation", "events read", "applied", "ignored", "invalid", "failed"):
        table.add_column(column, justify="left" if column == "read model" else "right")
    table.add_column("tail", justify="right")
    table.add_column("seconds", justify="right")
    for r in reports:
        table.add_row(
            r.model,
            f"{r.previous_generation} -> {r.generation}",
            str(r.build.read),
            str(r.build.applied),
            str(r.build.ignored),
            str(r.build.invalid + r.tail.invalid),
            str(r.build.failed + r.tail.failed),
            str(r.tail.read),
            f"{r.seconds:.1f}",
        )
    return table


def _notes(reports: list[RebuildReport]) -> None:
    for r in reports:
        for warning in r.warnings:
            console.print(f"[yellow]{r.model}: {warning}[/yellow]")
        skipped = [*r.build.problems, *r.tail.problems]
        for problem in skipped:
            console.print(f"[yellow]{r.model}: skipped {problem}[/yellow]")
        if r.build.invalid + r.tail.invalid + r.build.failed + r.tail.failed:
            console.print(
                f"[yellow]{r.model}: skipped events are the ones the live consumers dead-lettered; "
                "see `bookshelf dlq list`, fix and `bookshelf dlq replay` them.[/yellow]"
            )


def _advice(exc: BaseException, url: str, bootstrap: str) -> str:
    """What went wrong and what to do next."""
    text = f"{type(exc).__name__}: {exc}"
    where = url.rsplit("@", 1)[-1]
    if isinstance(exc, OSError) or ("connect" in text.lower() and "kafka" not in text.lower()):
        return (
            f"{text}\ncannot reach the storefront database at {where}: start the system with "
            "`bookshelf run`, or set STOREFRONT_DATABASE_URL to the database storefront-query uses."
        )
    if "read_model_generations" in text or "relation" in text:
        return (
            f"{text}\nthe storefront database is not migrated: run `bookshelf db setup -s storefront-query`."
        )
    return f"{text}\n(Kafka: {bootstrap}, database: {where}; set KAFKA_BOOTSTRAP_SERVERS / STOREFRONT_DATABASE_URL)"


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str, typer.Argument(help="storefront, catalog, reports, tracking or all")],
    allow_partial_history: Annotated[
        bool,
        typer.Option(
            "--allow-partial-history",
            help="Rebuild even when a source topic lost its oldest records (the read model will miss them).",
        ),
    ] = False,
) -> None:
    """Rebuild a read model from the topics into a new table while the old one serves, then switch."""
    if name.strip().lower() not in NAMES:
        errors.print(f"[red]unknown read model {name!r}[/red]; choose one of: {', '.join(NAMES)}")
        raise typer.Exit(2)
    try:
        from bookshelf_messaging import KafkaSettings
        from bookshelf_storefront.rebuild import HistoryIncomplete
        from bookshelf_storefront.rebuild import rebuild as run_rebuild
    except ImportError as exc:  # pragma: no cover - the workspace installs it
        errors.print(f"[red]storefront-query is not installed here ({exc}); run `uv sync`.[/red]")
        raise typer.Exit(1) from exc
    url, bootstrap = _addresses()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            reports = asyncio.run(
                run_rebuild(
                    url,
                    KafkaSettings(bootstrap_servers=bootstrap),
                    name,
                    _Bars(progress),
                    allow_partial_history=allow_partial_history,
                )
            )
    except HistoryIncomplete as exc:
        errors.print(f"[red]refusing to rebuild {name}[/red]: {exc}")
        raise typer.Exit(1) from exc
    except Exception as exc:
        errors.print(f"[red]rebuild of {name} failed[/red]: {_advice(exc, url, bootstrap)}")
        raise typer.Exit(1) from exc
    console.print(_summary(reports))
    _notes(reports)
    console.print(f"[green]{', '.join(r.model for r in reports)}: rebuilt and switched[/green]")
