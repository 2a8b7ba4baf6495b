"""The one place that wires storefront-query: engines, consumers, the query app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bookshelf_messaging import KafkaSettings, create_engine, create_session_factory, runners
from bookshelf_servicekit import ProblemSpec, create_app
from bookshelf_servicekit.problems import problem_type
from bookshelf_servicekit.runtime import Components, Options
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.domain.queries import InvalidQuery
from bookshelf_storefront.entrypoints.api import router
from bookshelf_storefront.entrypoints.consumers import consumers
from bookshelf_storefront.entrypoints.deps import STATE_KEY, StorefrontRuntime
from bookshelf_storefront.migrations import ALEMBIC_DIR

SERVICE = "storefront"
PROBLEMS: dict[type[Exception], int | ProblemSpec] = {
    InvalidQuery: ProblemSpec(422, "Invalid input", problem_type("validation-error")),
}


def query_engine(settings: StorefrontSettings) -> AsyncEngine:
    """The API's engine: custom plans (filters decide which index pays) and a statement timeout."""
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)

    @event.listens_for(engine.sync_engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        async def apply(conn: Any) -> None:
            await conn.execute(
                "SET plan_cache_mode = force_custom_plan; "
                f"SET statement_timeout = {int(settings.query_timeout_ms)}"
            )

        dbapi_connection.run_async(apply)

    return engine


def build(settings: StorefrontSettings | None = None, kafka: KafkaSettings | None = None) -> Components:
    """The service's components; tests pass their database, broker and consumer groups."""
    settings = settings or StorefrontSettings()
    kafka = kafka or KafkaSettings()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    reads = query_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await reads.dispose()

    app = create_app(
        SERVICE,
        settings=settings,
        routers=[router],
        problems=PROBLEMS,
        lifespan=lifespan,
        title="Bookshelf storefront-query",
        description="Read models (storefront, catalog, book reports, order tracking) built from the topics.",
    )
    # Reads need no transaction: autocommit saves the BEGIN and ROLLBACK round trips of every request
    # (a page and its total, when counted, are two statements and so two snapshots).
    autocommit = reads.execution_options(isolation_level="AUTOCOMMIT")
    setattr(app.state, STATE_KEY, StorefrontRuntime(create_session_factory(autocommit)))
    return Components(
        settings=settings,
        app=app,
        engine=engine,
        kafka=kafka,
        consumers=runners(consumers(settings), create_session_factory(engine), kafka, uow=None),
        alembic_dir=ALEMBIC_DIR,
    )


def build_components(options: Options) -> Components:
    """``run_service`` entry: settings from the environment plus the command-line overrides."""
    return build(StorefrontSettings(**options.overrides()))
