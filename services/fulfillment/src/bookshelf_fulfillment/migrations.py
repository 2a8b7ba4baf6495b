"""Database migrations of the saga worker (Alembic scripts shipped inside the package)."""

from __future__ import annotations

from pathlib import Path

from bookshelf_servicekit.migrations import upgrade_head

ALEMBIC_DIR = Path(__file__).parent / "alembic"


def upgrade(database_url: str) -> None:
    """Upgrade the fulfillment database to the newest revision (blocking; `bookshelf run` calls this)."""
    upgrade_head(ALEMBIC_DIR, database_url)
