"""Alembic environment of inventory: the shared servicekit env on asyncpg."""

from bookshelf_inventory.adapters.orm import metadata
from bookshelf_inventory.config import InventorySettings
from bookshelf_servicekit.migrations import run_env

run_env(target_metadata=metadata, default_url=lambda: InventorySettings().database_url)
