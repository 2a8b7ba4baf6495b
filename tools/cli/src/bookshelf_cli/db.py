"""`bookshelf db setup|drop|truncate`: each service's database and tables."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import asyncpg

from bookshelf_cli.local import LocalConfig
from bookshelf_cli.services import ServiceSpec


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def postgres_available(config: LocalConfig, specs: list[ServiceSpec]) -> Iterator[None]:
    """Use a running embedded PostgreSQL, or start one for the duration of the command."""
    if not config.needs_embedded_postgres(specs) or _port_open(config.host, config.pg_port):
        yield
        return
    from bookshelf_infra.postgres import EmbeddedPostgres

    config.home.mkdir(parents=True, exist_ok=True)
    pg = EmbeddedPostgres(config.home / "postgres", port=config.pg_port, host=config.host)
    pg.start()
    try:
        yield
    finally:
        pg.stop()


def _plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _admin_dsn(url: str) -> tuple[str, str]:
    """The DSN of the server's `postgres` database and the name of the service database."""
    base, _, name = _plain_dsn(url).rpartition("/")
    return f"{base}/postgres", name.split("?", 1)[0]


async def _create(url: str) -> None:
    admin, name = _admin_dsn(url)
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop(url: str) -> None:
    admin, name = _admin_dsn(url)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _truncate(url: str) -> list[str]:
    conn = await asyncpg.connect(_plain_dsn(url))
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            await conn.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
        return tables
    finally:
        await conn.close()


def setup(config: LocalConfig, spec: ServiceSpec) -> None:
    url = config.database_url(spec)
    if url:
        asyncio.run(_create(url))
        spec.migrate(url)


def drop(config: LocalConfig, spec: ServiceSpec) -> None:
    url = config.database_url(spec)
    if url:
        asyncio.run(_drop(url))


def truncate(config: LocalConfig, spec: ServiceSpec) -> list[str]:
    url = config.database_url(spec)
    return asyncio.run(_truncate(url)) if url else []
