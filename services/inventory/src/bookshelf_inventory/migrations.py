"""Database migrations of inventory (Alembic scripts ship inside the package, in ``alembic/``)."""

from __future__ import annotations

from pathlib import Path

from bookshelf_servicekit.migrations import upgrade_head

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"


def upgrade(database_url: str) -> None:
    """Upgrade the inventory database to the newest revision (blocking; ``bookshelf run`` calls it)."""
    upgrade_head(ALEMBIC_DIR, database_url)
