"""Alembic, programmatically: ``upgrade_head`` for the CLI, tests and dev start, and a shared env.py.

A service's ``alembic/env.py`` is then::

    from bookshelf_servicekit.migrations import run_env
    from bookshelf_catalog.adapters.orm import metadata
    from bookshelf_catalog.config import CatalogSettings

    run_env(target_metadata=metadata, default_url=lambda: CatalogSettings().database_url)

The URL comes from the Alembic config (``upgrade_head`` sets it) or, when alembic runs from the
command line, from ``default_url``. Migrations run on asyncpg through an async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATION_LOCK_ID = 0x626F6F6B  # "book"


def _to_async_url(url: str) -> str:
    from bookshelf_messaging.db import to_sqlalchemy_url

    return to_sqlalchemy_url(url)


def alembic_config(alembic_dir: str | Path, database_url: str) -> Config:
    """An Alembic ``Config`` for the scripts in ``alembic_dir`` against ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(alembic_dir))
    # ConfigParser interpolation: a literal % (URL-encoded passwords) must be doubled.
    config.set_main_option("sqlalchemy.url", _to_async_url(database_url).replace("%", "%%"))
    return config


def upgrade_head(alembic_dir: str | Path, database_url: str) -> None:
    """Upgrade the database to the newest revision (blocking; do not call inside a running loop)."""
    command.upgrade(alembic_config(alembic_dir, database_url), "head")


async def upgrade_head_async(alembic_dir: str | Path, database_url: str) -> None:
    """``upgrade_head`` from async code (runs Alembic in a worker thread with its own loop)."""
    await asyncio.to_thread(upgrade_head, alembic_dir, database_url)


def downgrade_base(alembic_dir: str | Path, database_url: str) -> None:
    """Downgrade the database to before the first revision."""
    command.downgrade(alembic_config(alembic_dir, database_url), "base")


def run_env(*, target_metadata: Any = None, default_url: Callable[[], str] | None = None) -> None:
    """The body of every service's ``alembic/env.py`` (online on asyncpg, or offline SQL)."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        if default_url is None:
            raise RuntimeError("no sqlalchemy.url in the Alembic config and no default_url given")
        url = _to_async_url(default_url())
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            # Processes of one service starting together (api + consumers) migrate one at a time.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(do_run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_async())
