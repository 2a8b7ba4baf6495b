"""Create and drop databases on any PostgreSQL server (embedded, container or external) over asyncpg."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

__all__ = ["PostgresAdmin", "quote_ident"]

T = TypeVar("T")
_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL silently truncates longer names


def quote_ident(name: str) -> str:
    """Quote ``name`` as an SQL identifier, refusing names PostgreSQL would truncate."""
    if not name or len(name.encode()) > _MAX_IDENTIFIER_BYTES:
        raise ValueError(f"database name {name!r} must be 1 to {_MAX_IDENTIFIER_BYTES} bytes long")
    return '"' + name.replace('"', '""') + '"'


class PostgresAdmin:
    """One PostgreSQL server reached through an admin URL such as ``postgresql://postgres@host:5432/postgres``.

    The sync methods run their asyncpg work on a short-lived thread, so they work both inside and outside
    a running event loop (they block it for the duration of the statement).
    """

    def __init__(self, admin_url: str) -> None:
        parts = urlsplit(admin_url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ValueError(f"expected postgresql://user[:password]@host:port/db, got {admin_url!r}")
        self.admin_url = admin_url
        self._parts = parts

    def dsn(self, database: str = "postgres") -> str:
        """asyncpg/libpq URL for ``database`` on this server, e.g. ``postgresql://postgres@127.0.0.1:5433/x``."""
        return urlunsplit(self._parts._replace(scheme="postgresql", path="/" + quote(database, safe="")))

    def sqlalchemy_url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL with the asyncpg driver, e.g. ``postgresql+asyncpg://postgres@127.0.0.1:5433/x``."""
        return "postgresql+asyncpg" + self.dsn(database).removeprefix("postgresql")

    @property
    def admin_database(self) -> str:
        """The database admin statements connect to (the path of the admin URL, ``postgres`` if empty)."""
        return self._parts.path.lstrip("/") or "postgres"

    async def create_database_async(self, name: str) -> None:
        """Create database ``name`` unless it exists (safe to call concurrently)."""
        statement = f"CREATE DATABASE {quote_ident(name)}"
        async with _connect(self.dsn(self.admin_database)) as conn:
            for attempt in range(20):
                if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    return
                try:
                    await conn.execute(statement)
                    return
                except asyncpg.DuplicateDatabaseError:
                    return
                except asyncpg.ObjectInUseError:
                    # "source database template1 is being accessed by other users": someone is
                    # connected to the template for a moment; try again shortly.
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.05)

    async def drop_database_async(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions first."""
        async with _connect(self.dsn(self.admin_database)) as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")

    async def database_exists_async(self, name: str) -> bool:
        """True when database ``name`` exists."""
        async with _connect(self.dsn(self.admin_database)) as conn:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists (blocking; see the class docstring)."""
        _run_sync(self.create_database_async, name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists (blocking)."""
        _run_sync(self.drop_database_async, name)

    def database_exists(self, name: str) -> bool:
        """True when database ``name`` exists (blocking)."""
        return _run_sync(self.database_exists_async, name)

    def __repr__(self) -> str:
        where = f"{self._parts.hostname}:{self._parts.port or 5432}/{self.admin_database}"
        return f"{type(self).__name__}({where!r})"  # never the password


@contextlib.asynccontextmanager
async def _connect(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


def _run_sync(fn: Callable[[str], Awaitable[T]], arg: str) -> T:
    async def main() -> T:
        return await fn(arg)

    with ThreadPoolExecutor(1, thread_name_prefix="bookshelf-pgadmin") as pool:
        return pool.submit(asyncio.run, main()).result()
