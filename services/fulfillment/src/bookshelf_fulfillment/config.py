"""Settings of the saga worker (environment prefix ``FULFILLMENT_``; Kafka from ``KAFKA_*``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from bookshelf_messaging import KafkaSettings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ID = "fulfillment.saga"
SERVICE = "fulfillment"


class FulfillmentSettings(BaseSettings):
    """``FULFILLMENT_DATABASE_URL``, ``FULFILLMENT_PORT`` (8006), ``FULFILLMENT_TIMEOUT_S`` (60) and friends."""

    model_config = SettingsConfigDict(
        env_prefix="FULFILLMENT_", extra="ignore", frozen=True, populate_by_name=True
    )

    env: Literal["dev", "prod"] = Field(
        default="dev", validation_alias="BOOKSHELF_ENV", description="dev: migrate the database on start"
    )
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5433/fulfillment",
        description="The saga's own PostgreSQL database (instances, history, inbox, outbox)",
    )
    port: int = Field(default=8006, ge=1, le=65535, description="Web view port")
    host: str = Field(default="127.0.0.1", description="Interface the web view binds to")
    advertised_host: str = Field(
        default="", description="Host in this worker's canonical URL (faust's web_host); defaults to host"
    )
    timeout_s: float = Field(
        default=60.0, gt=0, description="Deadline of AWAITING_STOCK and AWAITING_SHIPMENT, seconds"
    )
    app_id: str = Field(default=APP_ID, description="faust app id: the consumer group (and inbox group)")
    partitions: int = Field(
        default=6, ge=1, description="Partitions of every topic the worker creates (the saga inputs' count)"
    )
    batch_max: int = Field(default=100, ge=1, description="Events handled in one database transaction")
    deadline_check_interval_s: float = Field(default=1.0, gt=0, description="How often the timer looks")
    deadline_batch: int = Field(default=100, ge=1, description="Expired instances claimed per transaction")
    watchdog_stall_s: float = Field(
        default=30.0,
        gt=0,
        description="Re-seek an input partition whose committed offset has not moved for this long "
        "while records wait and the agent is idle",
    )
    fetch_max_wait_ms: int = Field(
        default=100, ge=1, description="Consumer fetch wait (faust hard-codes 1500 ms; see README)"
    )
    log_level: str = Field(default="INFO")

    @property
    def is_dev(self) -> bool:
        """``BOOKSHELF_ENV=dev``: the worker brings its database to the newest migration on start."""
        return self.env == "dev"

    @property
    def timeout(self) -> timedelta:
        """``timeout_s`` as a timedelta."""
        return timedelta(seconds=self.timeout_s)

    @property
    def canonical_host(self) -> str:
        """The host in this worker's canonical URL."""
        return self.advertised_host or self.host

    @staticmethod
    def kafka() -> KafkaSettings:
        """The shared ``KAFKA_*`` settings."""
        return KafkaSettings()
