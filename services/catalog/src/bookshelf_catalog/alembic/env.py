"""Alembic environment of the catalog (the shared body lives in bookshelf_servicekit.migrations)."""

from bookshelf_catalog.adapters.orm import metadata
from bookshelf_catalog.config import CatalogSettings
from bookshelf_servicekit.migrations import run_env

run_env(target_metadata=metadata, default_url=lambda: CatalogSettings().database_url)
