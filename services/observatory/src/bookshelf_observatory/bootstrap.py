"""The one place that wires real dependencies: settings, index database, indexer, dead letters, app."""

from __future__ import annotations

from collections.abc import Sequence

from bookshelf_messaging import (
    DeadLetterNotFound,
    DeadLetterStore,
    KafkaSettings,
    NotReplayable,
    ReplayLimitExceeded,
    create_engine,
)
from bookshelf_servicekit import create_app
from bookshelf_servicekit.runtime import Components, Options
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bookshelf_observatory.adapters import index_queries, index_writer, kafka_groups, probes, samples
from bookshelf_observatory.config import ObservatorySettings
from bookshelf_observatory.entrypoints.api import router as api_router
from bookshelf_observatory.entrypoints.auth import SignInRequired
from bookshelf_observatory.entrypoints.deps import CHARTS_KEY, STATE_KEY
from bookshelf_observatory.entrypoints.indexer import Indexer
from bookshelf_observatory.entrypoints.live import router as live_router
from bookshelf_observatory.entrypoints.maintenance import Pruner
from bookshelf_observatory.entrypoints.pages import STATIC_DIR
from bookshelf_observatory.entrypoints.pages import router as pages_router
from bookshelf_observatory.entrypoints.sampler import LagSampler
from bookshelf_observatory.entrypoints.signin import router as signin_router
from bookshelf_observatory.entrypoints.signin import sign_in_required
from bookshelf_observatory.migrations import ALEMBIC_DIR
from bookshelf_observatory.service_layer.charts import Charts
from bookshelf_observatory.service_layer.observatory import Observatory

SERVICE = "observatory"
PROBLEMS: dict[type[Exception], int] = {DeadLetterNotFound: 404, ReplayLimitExceeded: 409, NotReplayable: 409}


def build_app(settings: ObservatorySettings, observatory: Observatory, charts: Charts) -> FastAPI:
    """The dashboard app: pages, JSON API, static files, and the shared operational endpoints."""
    app = create_app(
        SERVICE,
        settings=settings,
        routers=[api_router, pages_router, live_router],
        problems=PROBLEMS,
        title="Bookshelf observatory",
        description="Trace index of every message, lag, outbox backlog, dead letters, sagas; live dashboard.",
    )
    app.include_router(signin_router)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    setattr(app.state, STATE_KEY, observatory)
    setattr(app.state, CHARTS_KEY, charts)
    return app


def build(
    settings: ObservatorySettings | None = None,
    kafka: KafkaSettings | None = None,
    *,
    topics: Sequence[str] | None = None,
) -> Components:
    """The observatory's components; tests pass their database, broker, group id and topics."""
    settings = settings or ObservatorySettings()
    kafka = kafka or KafkaSettings()
    engine = create_engine(settings.database_url, pool_size=5)
    observatory = Observatory(
        engine, kafka, settings, DeadLetterStore(kafka), index_queries, index_writer, probes, kafka_groups
    )
    charts = Charts(engine, samples, settings.chart_window_s, settings.chart_step_s)
    indexer = Indexer(
        engine,
        kafka,
        group_id=settings.indexer_group,
        topics=topics,
        pattern=settings.topic_pattern,
        fetch_wait_ms=settings.index_fetch_wait_ms,
        batch_max=settings.index_batch_max,
    )
    return Components(
        settings=settings,
        app=build_app(settings, observatory, charts),
        engine=engine,
        kafka=kafka,
        consumers=[indexer],
        alembic_dir=ALEMBIC_DIR,
        extra_tasks=[Pruner(engine, settings.retention_hours), LagSampler(observatory, charts)],
    )


def build_components(options: Options) -> Components:
    """``run_service`` entry: settings from the environment plus the command-line overrides."""
    return build(ObservatorySettings(**options.overrides()))
