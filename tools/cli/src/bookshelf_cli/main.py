"""The `bookshelf` operator CLI. Exit status: 0 success, 1 failed check, 2 bad usage."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from bookshelf_cli import db
from bookshelf_cli.audit import audit
from bookshelf_cli.demo import demo
from bookshelf_cli.dlq import dlq_app
from bookshelf_cli.importer import import_app
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.logs import logs
from bookshelf_cli.observatory import observatory
from bookshelf_cli.outbox import outbox_app
from bookshelf_cli.projections import projections_app
from bookshelf_cli.services import ServiceSpec, installed_services
from bookshelf_cli.status import status
from bookshelf_cli.tail import tail
from bookshelf_cli.trace import trace

app = typer.Typer(help="Operate Bookshelf: run it, manage databases, inspect Kafka.", no_args_is_help=True)
db_app = typer.Typer(help="Databases and tables of each service.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(dlq_app, name="dlq")
app.add_typer(outbox_app, name="outbox")
app.add_typer(projections_app, name="projections")
app.command("status")(status)
app.command("trace")(trace)
app.command("observatory")(observatory)
app.add_typer(import_app, name="import")
app.command("audit")(audit)
app.command("logs")(logs)
app.command("tail")(tail)
app.command("demo")(demo)
console = Console()

ServiceOption = Annotated[
    list[str] | None, typer.Option("--service", "-s", help="Restrict to these services (repeatable).")
]


def _services(names: list[str] | None) -> list[ServiceSpec]:
    try:
        return installed_services(names)
    except ValueError as exc:
        console.print(
            f"[red]{exc}[/red]. Known: catalog, ordering, inventory, shipping, storefront-query, ..."
        )
        raise typer.Exit(2) from exc


@app.command()
def run(service: ServiceOption = None) -> None:
    """Run the whole system on this machine (the same as `make run`)."""
    from bookshelf_cli.run import run_system

    raise typer.Exit(run_system(_services(service)))


@db_app.command("setup")
def db_setup(service: ServiceOption = None) -> None:
    """Create each service's database if missing and migrate it to the newest revision."""
    config, specs = LocalConfig(), _services(service)
    with db.postgres_available(config, specs):
        for spec in specs:
            db.setup(config, spec)
            console.print(f"{spec.name}: ready")


@db_app.command("drop")
def db_drop(
    service: ServiceOption = None, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False
) -> None:
    """Drop each service's database (all its data)."""
    config, specs = LocalConfig(), _services(service)
    if not yes and not typer.confirm(f"Drop the databases of {', '.join(s.name for s in specs)}?"):
        raise typer.Exit(1)
    with db.postgres_available(config, specs):
        for spec in specs:
            db.drop(config, spec)
            console.print(f"{spec.name}: dropped")


@db_app.command("truncate")
def db_truncate(
    service: ServiceOption = None, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False
) -> None:
    """Empty every table of each service's database, keeping the schema."""
    config, specs = LocalConfig(), _services(service)
    if not yes and not typer.confirm(f"Empty every table of {', '.join(s.name for s in specs)}?"):
        raise typer.Exit(1)
    with db.postgres_available(config, specs):
        for spec in specs:
            tables = db.truncate(config, spec)
            console.print(f"{spec.name}: emptied {len(tables)} tables")


if __name__ == "__main__":
    app()
