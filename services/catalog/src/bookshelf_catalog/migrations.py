"""Database migrations of the catalog (used by ``bookshelf db setup``, ``bookshelf run`` and tests)."""

from __future__ import annotations

from bookshelf_servicekit.migrations import upgrade_head, upgrade_head_async

from bookshelf_catalog.bootstrap import ALEMBIC_DIR


def upgrade(database_url: str) -> None:
    """Bring the catalog database to the newest revision (blocking)."""
    upgrade_head(ALEMBIC_DIR, database_url)


async def upgrade_async(database_url: str) -> None:
    """``upgrade`` from async code."""
    await upgrade_head_async(ALEMBIC_DIR, database_url)
