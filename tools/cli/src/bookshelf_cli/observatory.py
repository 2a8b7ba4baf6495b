"""`bookshelf observatory [--port 9000]`: the web dashboard (the observatory service) in the foreground.

`bookshelf run` already starts it with the rest of the system; this command runs it alone, e.g. against
a system started elsewhere, or on another port next to the one `bookshelf run` started. It uses the same
addresses as `bookshelf run` (KAFKA_BOOTSTRAP_SERVERS or BOOKSHELF_KAFKA_PORT, OBSERVATORY_DATABASE_URL
or BOOKSHELF_PG_PORT), creates and migrates its database when needed, and stops on Ctrl-C.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from bookshelf_cli import db
from bookshelf_cli.connect import kafka_settings, require_broker, spec
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.output import out


def observatory(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="HTTP port of the dashboard.")] = 9000,
    host: Annotated[
        str | None, typer.Option("--host", help="Bind address (default OBSERVATORY_HOST or 127.0.0.1).")
    ] = None,
) -> None:
    """The web dashboard: overview, dead letters (replay, purge), trace search, sagas. Ctrl-C stops it."""
    config, service = LocalConfig(), spec("observatory")
    require_broker(kafka_settings(config))
    url = config.database_url(service)
    assert url is not None  # the observatory has a database
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", config.kafka_bootstrap)
    os.environ.setdefault("OBSERVATORY_DATABASE_URL", url)
    os.environ.setdefault("BOOKSHELF_ENV", "dev")
    with db.postgres_available(config, [service]):
        db.setup(config, service)
        from bookshelf_observatory.bootstrap import build_components
        from bookshelf_servicekit.runtime import run_service

        shown = host or os.environ.get("OBSERVATORY_HOST", "127.0.0.1")
        out.print(f"Observatory on [bold]http://{shown}:{port}[/] (Ctrl-C stops it)")
        argv = ["--port", str(port), *(["--host", host] if host else [])]
        run_service("observatory", build_components, argv)
