"""Async SQLAlchemy engine and session factory on asyncpg, and DSN conversion for raw asyncpg."""

from __future__ import annotations

import re
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")


def _json_dumps(value: Any) -> str:
    # SQLAlchemy's asyncpg JSON codec wants text; orjson is ~5x faster than json.dumps.
    return orjson.dumps(value).decode()


def _with_scheme(url: str, scheme: str) -> str:
    # A plain prefix swap: re-rendering through SQLAlchemy's URL would percent-encode query values
    # such as ``?host=/tmp/socket-dir`` (which asyncpg and SQLAlchemy read back fine, but humans don't).
    match = _SCHEME.match(url)
    if match is None:
        raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]!r} (expected postgresql://...)")
    return scheme + url[match.end() :]


def to_sqlalchemy_url(url: str) -> str:
    """``postgresql://`` / ``postgres://`` / ``postgresql+psycopg://`` -> ``postgresql+asyncpg://``."""
    return _with_scheme(url, "postgresql+asyncpg://")


def to_asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://...``) as a DSN asyncpg.connect accepts."""
    return _with_scheme(url, "postgresql://")


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine on asyncpg: pre-ping, recycled connections and orjson for JSON columns."""
    return create_async_engine(
        to_sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        echo=echo,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (handlers return them to callers)."""
    return async_sessionmaker(engine, expire_on_commit=False)
