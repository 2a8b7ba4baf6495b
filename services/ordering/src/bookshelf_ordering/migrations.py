"""Database migrations of ordering (Alembic scripts shipped inside the package)."""

from __future__ import annotations

from pathlib import Path

from bookshelf_servicekit.migrations import upgrade_head

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"


def upgrade(database_url: str) -> None:
    """Upgrade ordering's database to the newest revision (blocking; ``bookshelf run`` calls this)."""
    upgrade_head(ALEMBIC_DIR, database_url)
