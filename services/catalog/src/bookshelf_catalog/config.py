"""Catalog settings: ``CATALOG_*`` plus the shared ``BOOKSHELF_*`` and ``SUPPLIER_WEBHOOK_SECRET``."""

from __future__ import annotations

from typing import ClassVar

from bookshelf_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

DEV_SUPPLIER_SECRET = "dev-supplier-secret"


class CatalogSettings(ServiceSettings):
    """``CATALOG_DATABASE_URL``, ``CATALOG_PORT`` (8001), ``CATALOG_HOST``, ``CATALOG_ROLE``,
    ``SUPPLIER_WEBHOOK_SECRET`` (dev default ``dev-supplier-secret``), ``SUPPLIER_WEBHOOK_TOLERANCE_S``."""

    model_config = SettingsConfigDict(env_prefix="CATALOG_")

    service_name: ClassVar[str] = "catalog"
    DEV_SECRETS: ClassVar[dict[str, tuple[str, str]]] = {
        **ServiceSettings.DEV_SECRETS,
        "supplier_webhook_secret": ("SUPPLIER_WEBHOOK_SECRET", DEV_SUPPLIER_SECRET),
    }

    port: int = Field(default=8001, ge=0, le=65535)
    supplier_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="SUPPLIER_WEBHOOK_SECRET"
    )
    supplier_webhook_tolerance_s: int = Field(
        default=300, ge=1, validation_alias="SUPPLIER_WEBHOOK_TOLERANCE_S"
    )
