"""Alembic environment of the saga worker (see bookshelf_servicekit.migrations.run_env)."""

from bookshelf_fulfillment.adapters.orm import metadata
from bookshelf_fulfillment.config import FulfillmentSettings
from bookshelf_servicekit.migrations import run_env

run_env(target_metadata=metadata, default_url=lambda: FulfillmentSettings().database_url)
