"""Alembic environment of ordering: servicekit's shared env on asyncpg."""

from bookshelf_ordering.adapters.orm import metadata
from bookshelf_ordering.config import OrderingSettings
from bookshelf_servicekit.migrations import run_env

run_env(target_metadata=metadata, default_url=lambda: OrderingSettings().database_url)
