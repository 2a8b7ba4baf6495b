"""Settings of storefront-query (environment prefix ``STOREFRONT_``; shared ``BOOKSHELF_*``, ``KAFKA_*``)."""

from __future__ import annotations

from typing import ClassVar

from bookshelf_servicekit import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

CATALOG_GROUP = "storefront.catalog-events"
INVENTORY_GROUP = "storefront.inventory-events"
ORDERS_GROUP = "storefront.order-events"
SHIPMENTS_GROUP = "storefront.shipment-events"


class StorefrontSettings(ServiceSettings):
    """``STOREFRONT_DATABASE_URL``, ``STOREFRONT_PORT`` (8005), ``STOREFRONT_HOST``, ``STOREFRONT_ROLE``, ..."""

    model_config = SettingsConfigDict(env_prefix="STOREFRONT_")
    service_name: ClassVar[str] = "storefront"

    port: int = Field(default=8005, ge=0, le=65535)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    query_timeout_ms: int = Field(
        default=5000, ge=100, description="statement_timeout of API queries (STOREFRONT_QUERY_TIMEOUT_MS)"
    )
    # Consumer groups (overridable so tests and parallel deployments can use their own).
    catalog_group: str = CATALOG_GROUP
    inventory_group: str = INVENTORY_GROUP
    orders_group: str = ORDERS_GROUP
    shipments_group: str = SHIPMENTS_GROUP
