"""The one place that wires the worker: settings, logging, topics, migrations, the faust app, its views."""

from __future__ import annotations

import logging
from typing import Any

import faust
import structlog
from bookshelf_contracts import SAGA_INPUT_TOPICS
from bookshelf_messaging import KafkaSettings
from bookshelf_servicekit.logging import add_trace_ids
from bookshelf_servicekit.runtime import EXIT_DEADLINE_S, arm_exit_deadline
from bookshelf_servicekit.telemetry import configure_tracing

from bookshelf_fulfillment.adapters.kafka import configure_consumer, ensure_saga_topics
from bookshelf_fulfillment.adapters.progress import OffsetProgress
from bookshelf_fulfillment.config import SERVICE, FulfillmentSettings
from bookshelf_fulfillment.entrypoints.web import register_views
from bookshelf_fulfillment.entrypoints.worker import SagaWorker
from bookshelf_fulfillment.migrations import upgrade

log = structlog.get_logger("bookshelf.fulfillment")


def configure_logging() -> None:
    """structlog events rendered as JSON into stdlib logging (whose handler faust's worker installs)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_trace_ids,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )


def build_worker(
    settings: FulfillmentSettings | None = None, kafka: KafkaSettings | None = None
) -> SagaWorker:
    """Create the topics the saga needs and the worker with its views (nothing is started)."""
    settings = settings or FulfillmentSettings()
    kafka = kafka or settings.kafka()
    partitions = ensure_saga_topics(kafka)
    progress = OffsetProgress()
    configure_consumer(
        fetch_max_wait_ms=settings.fetch_max_wait_ms, rewind_topics=SAGA_INPUT_TOPICS, progress=progress
    )
    worker = SagaWorker(settings, kafka, partitions, progress)
    register_views(worker)
    return worker


class DeadlineWorker(faust.Worker):
    """faust's worker, which exits within ``EXIT_DEADLINE_S`` of a stop signal even if its graceful
    shutdown hangs (a consumer or producer talking to a broker that stopped at the same moment: every
    child of a killed `bookshelf run` gets SIGTERM at once, and nobody escalates to SIGKILL)."""

    def _schedule_shutdown(self, signal: Any) -> None:
        if not getattr(self, "_deadline_armed", False):
            self._deadline_armed = True
            arm_exit_deadline(EXIT_DEADLINE_S)
        super()._schedule_shutdown(signal)


def main() -> None:
    """Run the worker until SIGTERM/SIGINT (faust's worker stops the app cleanly, then exits)."""
    settings = FulfillmentSettings()
    configure_logging()
    configure_tracing(SERVICE)
    if settings.is_dev:  # like every service in dev mode; deployments migrate with a Job first
        upgrade(settings.database_url)
    worker = build_worker(settings)
    log.info(
        "fulfillment.starting",
        port=settings.port,
        host=settings.host,
        timeout_s=settings.timeout_s,
        kafka=settings.kafka().bootstrap_servers,
    )
    DeadlineWorker(worker.app, loglevel=settings.log_level, redirect_stdouts=False).execute_from_commandline()
