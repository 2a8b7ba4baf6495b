"""Outbox backlog per service: unpublished rows and the age of the oldest, read from each service database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from bookshelf_cli.local import LocalConfig
from bookshelf_cli.services import ServiceSpec

CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class OutboxBacklog:
    """One service's outbox: rows not yet published and the oldest one's age; ``error`` when unreadable."""

    service: str
    backlog: int | None
    oldest_age_s: float | None
    error: str | None = None


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://``) as a DSN asyncpg takes."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _stats(dsn: str) -> tuple[int, float | None]:
    from bookshelf_messaging.outbox import outbox_stats  # a second to import: only when needed

    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        return await outbox_stats(conn)
    finally:
        await conn.close()


def describe_db_error(exc: BaseException, url: str) -> str:
    """What a failed database read means for an operator, with the next step."""
    where = url.rsplit("@", 1)[-1]
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"database {where} does not exist: run `bookshelf db setup`"
    if isinstance(exc, asyncpg.UndefinedTableError):
        return f"no such table in {where}: run `bookshelf db setup` (migrations)"
    if isinstance(exc, OSError | asyncio.TimeoutError):
        return f"PostgreSQL at {where} does not answer: start it (`bookshelf run`) or set the *_DATABASE_URL"
    return f"{type(exc).__name__}: {exc}"


async def _one(spec: ServiceSpec, url: str) -> OutboxBacklog:
    try:
        backlog, age = await _stats(asyncpg_dsn(url))
    except asyncpg.UndefinedTableError:
        return OutboxBacklog(spec.name, None, None, "no outbox table (this service publishes nothing)")
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return OutboxBacklog(spec.name, None, None, describe_db_error(exc, url))
    return OutboxBacklog(spec.name, backlog, age)


async def outbox_backlogs(config: LocalConfig, specs: list[ServiceSpec]) -> list[OutboxBacklog]:
    """The outbox of every service with a database, read concurrently."""
    jobs = [(spec, config.database_url(spec)) for spec in specs]
    return list(await asyncio.gather(*(_one(spec, url) for spec, url in jobs if url)))
