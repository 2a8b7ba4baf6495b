"""Alembic environment of storefront-query (see bookshelf_servicekit.migrations.run_env)."""

from bookshelf_servicekit.migrations import run_env
from bookshelf_storefront.config import StorefrontSettings

# No target metadata: the read-model tables are generations behind views (see adapters/generations.py).
run_env(target_metadata=None, default_url=lambda: StorefrontSettings().database_url)
