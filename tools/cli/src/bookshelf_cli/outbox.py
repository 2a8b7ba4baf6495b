"""`bookshelf outbox parked|retry|drop`: outbox rows the broker refused for good.

The relay parks a row it can never publish (too large for the topic, an invalid record) instead of
dying on it, and keeps publishing the rows after it (``bookshelf_messaging.parked``). These commands
show the parked rows of each service database, hand them back to the relay once the cause is fixed,
or delete them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import asyncpg
import typer
from rich.table import Table

from bookshelf_cli.backlog import CONNECT_TIMEOUT_S, asyncpg_dsn, describe_db_error
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.output import EXIT_USAGE, emit_json, fail, iso, out, plural, shorten, when
from bookshelf_cli.services import ServiceSpec, installed_services

if TYPE_CHECKING:
    from bookshelf_messaging.parked import ParkedRow

outbox_app = typer.Typer(
    help="Outbox rows the broker refused for good (parked): list, retry, drop.", no_args_is_help=True
)

T = TypeVar("T")
ServiceArgument = Annotated[str, typer.Argument(help="The service whose outbox to change, e.g. catalog.")]
IdsArgument = Annotated[list[int] | None, typer.Argument(help="Parked row ids (from `outbox parked`).")]
AllOption = Annotated[bool, typer.Option("--all", help="Every parked row of the service.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]


def _specs(names: list[str] | None) -> list[ServiceSpec]:
    try:
        specs = [s for s in installed_services(names) if s.database is not None]
    except ValueError as exc:
        fail(str(exc), "name one of: catalog, ordering, inventory, shipping, storefront-query", EXIT_USAGE)
    if not specs:
        fail("no installed service with a database", "name a service that has an outbox", EXIT_USAGE)
    return specs


def _on_database(spec: ServiceSpec, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` on a connection to the service's database; failures end the command."""
    url = LocalConfig().database_url(spec)
    if url is None:  # pragma: no cover - _specs keeps services with a database
        fail(f"{spec.name} has no database", "name a service that has an outbox", EXIT_USAGE)

    async def run() -> T:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        fail(f"{spec.name}: {describe_db_error(exc, url)}", "fix the database connection and retry")


def _summary(service: str, row: ParkedRow) -> dict[str, Any]:
    return {
        "service": service,
        "id": row.id,
        "topic": row.topic,
        "key": row.key,
        "size": row.size,
        "error": row.error,
        "created_at": iso(row.created_at),
        "parked_at": iso(row.parked_at),
    }


@outbox_app.command("parked")
def parked(
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only these services (repeatable).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Parked rows of every service outbox: id, topic, size, why the broker refused it, since when."""
    from bookshelf_messaging.parked import list_parked

    rows = [(spec.name, row) for spec in _specs(service) for row in _on_database(spec, list_parked)]
    if json_output:
        emit_json({"parked": [_summary(name, row) for name, row in rows], "total": len(rows)})
        return
    if not rows:
        out.print("No parked outbox rows.")
        return
    table = Table("service", "id", "topic", "key", "bytes", "error", "parked")
    for name, row in rows:
        table.add_row(
            name,
            str(row.id),
            row.topic,
            row.key or "-",
            f"{row.size:,}",
            shorten(row.error, 60),
            when(row.parked_at),
        )
    out.print(table)
    out.print(
        "Fix the cause (e.g. the topic's max.message.bytes), then `bookshelf outbox retry SERVICE ID...`; "
        "or delete them for good with `bookshelf outbox drop SERVICE ID...`."
    )


def _chosen(ids: list[int] | None, every: bool) -> list[int] | None:
    if every == bool(ids):
        fail(
            "name the parked row ids, or --all (not both)", "`bookshelf outbox parked` lists them", EXIT_USAGE
        )
    return None if every else list(ids or [])


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        fail("refusing to change the outbox without confirmation", "add --yes", EXIT_USAGE)
    if not typer.confirm(question):
        fail("cancelled, nothing changed", "run again and answer y, or add --yes")


def _act(
    service: str, ids: list[int] | None, every: bool, yes: bool, question: str, action: Any
) -> tuple[str, int]:
    """Confirm ``question`` (``{what}`` and ``{service}`` filled in), then run ``action(conn, chosen)``."""
    [spec] = _specs([service])
    chosen = _chosen(ids, every)
    what = "every parked row" if chosen is None else plural(len(chosen), "parked row")
    _confirm(question.format(what=what, service=spec.name), yes)
    return spec.name, _on_database(spec, lambda conn: action(conn, chosen))


@outbox_app.command("retry")
def retry(
    service: ServiceArgument, ids: IdsArgument = None, every: AllOption = False, yes: YesOption = False
) -> None:
    """Hand parked rows back to the relay (after fixing why the broker refused them)."""
    from bookshelf_messaging.parked import retry_parked

    question = "Publish {what} of {service} again (after the rows published meanwhile)?"
    name, count = _act(service, ids, every, yes, question, retry_parked)
    out.print(f"{name}: {plural(count, 'row')} handed back to the relay.")


@outbox_app.command("drop")
def drop(
    service: ServiceArgument, ids: IdsArgument = None, every: AllOption = False, yes: YesOption = False
) -> None:
    """Delete parked rows: their events are never published."""
    from bookshelf_messaging.parked import drop_parked

    question = "Delete {what} of {service}? Their events will never be published."
    name, count = _act(service, ids, every, yes, question, drop_parked)
    out.print(f"{name}: {plural(count, 'row')} deleted.")
