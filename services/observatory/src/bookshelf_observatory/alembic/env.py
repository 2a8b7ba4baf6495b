"""Alembic environment of the observatory (see bookshelf_servicekit.migrations.run_env)."""

from bookshelf_observatory.adapters.orm import metadata
from bookshelf_observatory.config import ObservatorySettings
from bookshelf_servicekit.migrations import run_env

run_env(target_metadata=metadata, default_url=lambda: ObservatorySettings().database_url)
