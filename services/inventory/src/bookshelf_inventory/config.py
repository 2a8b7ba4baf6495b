"""Settings of the inventory service (environment prefix ``INVENTORY_``)."""

from __future__ import annotations

from typing import ClassVar

from bookshelf_servicekit import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class InventorySettings(ServiceSettings):
    """``INVENTORY_DATABASE_URL``, ``INVENTORY_PORT``, ``INVENTORY_INITIAL_STOCK`` ... (see README)."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_")

    service_name: ClassVar[str] = "inventory"

    port: int = Field(default=8003, ge=0, le=65535)
    initial_stock: int = Field(default=10, ge=0, description="on_hand of a record created on BookAdded")
    low_stock_below: int = Field(
        default=3, ge=1, description="GET /inventory?low_stock=true: available < this"
    )
    db_pool_size: int = Field(default=10, ge=1)

    # Consumer groups (overridable so tests and parallel deployments can use their own).
    catalog_group: str = "inventory.catalog-events"
    commands_group: str = "inventory.commands"
    supplier_group: str = "inventory.supplier-feed"

    # A supplier restock for a book inventory does not know yet is retried with backoff before it is
    # dead-lettered: its BookAdded may still be on its way (0.5 + 1 + 2 + 4 s with the defaults).
    supplier_max_retries: int = Field(default=4, ge=0)
    supplier_backoff_s: float = Field(default=0.5, ge=0)
