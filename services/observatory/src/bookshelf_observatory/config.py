"""Settings of the observatory (environment prefix ``OBSERVATORY_``; shared ``BOOKSHELF_*``, ``KAFKA_*``)."""

from __future__ import annotations

import os
from typing import ClassVar

from bookshelf_servicekit import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

INDEXER_GROUP = "observatory.indexer"
# Every topic of the system: each context's topics, their .bulk lanes and .dlq topics, the supplier feed,
# and the saga's own (fulfillment.deadlines). Matched against the broker's topics, so topics created
# later are picked up. faust's internal topics (``<app>-<table>-changelog``, ``-repartition``) hold state,
# not messages, and are left out, as are its `__assignor-__leader` topics.
TOPIC_PATTERN = (
    r"^(?!.*(-changelog$|-repartition$|__))"
    r"(catalog|inventory|ordering|shipping|supplier|fulfillment|storefront)\..+"
)

# The services the dashboard watches: name, environment prefix, default port (docs/reference/http.md).
WATCHED: tuple[tuple[str, str, int], ...] = (
    ("catalog", "CATALOG", 8001),
    ("ordering", "ORDERING", 8002),
    ("inventory", "INVENTORY", 8003),
    ("shipping", "SHIPPING", 8004),
    ("storefront-query", "STOREFRONT", 8005),
    ("fulfillment", "FULFILLMENT", 8006),
)


class ObservatorySettings(ServiceSettings):
    """``OBSERVATORY_DATABASE_URL``, ``OBSERVATORY_PORT`` (9000), ``OBSERVATORY_HOST`` (127.0.0.1), ..."""

    model_config = SettingsConfigDict(env_prefix="OBSERVATORY_")
    service_name: ClassVar[str] = "observatory"

    port: int = Field(default=9000, ge=0, le=65535)
    indexer_group: str = Field(default=INDEXER_GROUP, description="Consumer group of the indexer")
    topic_pattern: str = Field(default=TOPIC_PATTERN, description="Regular expression of the topics indexed")
    index_fetch_wait_ms: int = Field(
        default=100, ge=1, le=5000, description="Indexer fetch wait: the index may trail by this much"
    )
    index_batch_max: int = Field(default=1000, ge=1, le=10_000, description="Records per index statement")
    retention_hours: float = Field(default=168.0, gt=0, description="Index rows older than this are pruned")
    services: str = Field(
        default="",
        description="Watched services as name=url pairs, comma-separated (default: 127.0.0.1 and "
        "each service's <PREFIX>_PORT or its default port)",
    )
    probe_timeout_s: float = Field(default=1.5, gt=0, le=30)
    live_interval_s: float = Field(
        default=2.0, ge=0.2, le=60, description="How often a live page's data is re-read and pushed (SSE)"
    )
    live_stream_s: float = Field(
        default=10.0,
        ge=0.5,
        le=300,
        description="How long one event stream lasts before the browser reconnects (bounds how long a "
        "shutdown waits for an open dashboard)",
    )
    chart_window_s: int = Field(default=900, ge=60, le=86_400, description="Time shown by the charts")
    chart_step_s: int = Field(default=5, ge=1, le=300, description="One chart point (and lag sample) per")
    trace_ui_url: str = Field(
        default="",
        description="A tracing UI's trace page with {trace_id}, e.g. http://localhost:16686/trace/{trace_id}; "
        "empty: no link",
    )

    def trace_url(self, trace_id: str) -> str | None:
        """The tracing UI's page of ``trace_id`` (None when ``OBSERVATORY_TRACE_UI_URL`` is not set)."""
        template = self.trace_ui_url.strip()
        return template.replace("{trace_id}", trace_id) if template else None

    def service_urls(self) -> dict[str, str]:
        """Name -> base URL of every watched service."""
        if self.services.strip():
            pairs = (item.split("=", 1) for item in self.services.split(",") if "=" in item)
            return {name.strip(): url.strip().rstrip("/") for name, url in pairs}
        return {
            name: f"http://127.0.0.1:{os.environ.get(f'{prefix}_PORT', port)}"
            for name, prefix, port in WATCHED
        }

    @staticmethod
    def service_database_urls() -> dict[str, str]:
        """Name -> database URL of the watched services whose ``<PREFIX>_DATABASE_URL`` is set."""
        urls = {name: os.environ.get(f"{prefix}_DATABASE_URL", "") for name, prefix, _ in WATCHED}
        return {name: url for name, url in urls.items() if url}
