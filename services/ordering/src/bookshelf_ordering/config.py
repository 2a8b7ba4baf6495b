"""Ordering's settings (environment prefix ``ORDERING_``; shared ``BOOKSHELF_*`` and ``KAFKA_*``)."""

from __future__ import annotations

from typing import ClassVar

from bookshelf_servicekit import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class OrderingSettings(ServiceSettings):
    """``ORDERING_DATABASE_URL``, ``ORDERING_PORT`` (8002), ``ORDERING_HOST``, ``ORDERING_ROLE``, ..."""

    model_config = SettingsConfigDict(env_prefix="ORDERING_")

    service_name: ClassVar[str] = "ordering"

    port: int = Field(default=8002, ge=0, le=65535)
    # Consumer groups (overridable so tests and parallel deployments can use their own).
    commands_group: str = "ordering.commands"
    catalog_group: str = "ordering.catalog-replica"
    db_pool_size: int = Field(default=10, ge=1, le=200)
