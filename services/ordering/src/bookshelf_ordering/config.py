"""Ordering's settings (environment prefix ``ORDERING_``; shared ``BOOKSHELF_*`` and ``KAFKA_*``)."""

from __future__ import annotations

from typing import ClassVar

from bookshelf_servicekit import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

DEV_ACCESS_TOKEN_SECRET = "dev-order-access-token-secret"


class OrderingSettings(ServiceSettings):
    """``ORDERING_DATABASE_URL``, ``ORDERING_PORT`` (8002), ``ORDERING_HOST``, ``ORDERING_ROLE``, ..."""

    model_config = SettingsConfigDict(env_prefix="ORDERING_")

    service_name: ClassVar[str] = "ordering"
    DEV_SECRETS: ClassVar[dict[str, tuple[str, str]]] = {
        **ServiceSettings.DEV_SECRETS,
        "access_token_secret": ("ORDERING_ACCESS_TOKEN_SECRET", DEV_ACCESS_TOKEN_SECRET),
    }

    port: int = Field(default=8002, ge=0, le=65535)
    # Consumer groups (overridable so tests and parallel deployments can use their own).
    commands_group: str = "ordering.commands"
    catalog_group: str = "ordering.catalog-replica"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # The key order access tokens are derived under (docs/adr/0009-order-access-tokens.md).
    access_token_secret: SecretStr | None = Field(
        default=None, validation_alias="ORDERING_ACCESS_TOKEN_SECRET"
    )
    # POST /orders per client (address): sustained orders per minute and burst; 0 switches it off.
    # Staff-token requests are not limited. docs/security.md "Rate limit" says why it lives here.
    place_rate_per_minute: float = Field(default=30, ge=0)
    place_burst: int = Field(default=20, ge=1)
