"""Settings of the saga worker (environment prefix ``FULFILLMENT_``; Kafka from ``KAFKA_*``)."""

from __future__ import annotations

from datetime import timedelta

from bookshelf_messaging import KafkaSettings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ID = "fulfillment.saga"


class FulfillmentSettings(BaseSettings):
    """``FULFILLMENT_PORT`` (8006), ``FULFILLMENT_TIMEOUT_S`` (60) and friends."""

    model_config = SettingsConfigDict(env_prefix="FULFILLMENT_", extra="ignore", frozen=True)

    port: int = Field(default=8006, ge=1, le=65535, description="Web view port")
    host: str = Field(default="127.0.0.1", description="Interface the web view binds to")
    advertised_host: str = Field(
        default="",
        description="Host other workers use to reach this one (table_route); defaults to host",
    )
    timeout_s: float = Field(
        default=60.0, gt=0, description="Deadline of AWAITING_STOCK and AWAITING_SHIPMENT, seconds"
    )
    app_id: str = Field(
        default=APP_ID, description="faust app id: the consumer group and the changelog topic prefix"
    )
    partitions: int = Field(
        default=6, ge=1, description="Partitions of every topic the worker creates (the saga inputs' count)"
    )
    deadline_check_interval_s: float = Field(default=1.0, gt=0, description="How often the timer looks")
    deadline_resend_s: float = Field(
        default=30.0, gt=0, description="Emit a deadline again if its instance still waits after this"
    )
    index_rescan_s: float = Field(default=60.0, gt=0, description="Full rescan of the table for deadlines")
    fetch_max_wait_ms: int = Field(
        default=500, ge=1, description="Consumer fetch wait (faust hard-codes 1500 ms; see README)"
    )
    log_level: str = Field(default="INFO")

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
