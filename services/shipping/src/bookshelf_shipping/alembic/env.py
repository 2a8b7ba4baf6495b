"""Alembic environment of the shipping service (see bookshelf_servicekit.migrations.run_env)."""

from bookshelf_servicekit.migrations import run_env
from bookshelf_shipping.adapters.orm import metadata
from bookshelf_shipping.config import ShippingSettings

run_env(target_metadata=metadata, default_url=lambda: ShippingSettings().database_url)
