"""The one place that wires the catalog: engine, outbox, bus, queries, app, relay and consumers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bookshelf_messaging import (
    KafkaSettings,
    Outbox,
    OutboxRelay,
    create_engine,
    create_session_factory,
    runners,
)
from bookshelf_servicekit.runtime import Components, Options

from bookshelf_catalog.adapters.queries import BookQueries
from bookshelf_catalog.adapters.unit_of_work import SqlAlchemyUnitOfWork
from bookshelf_catalog.config import CatalogSettings
from bookshelf_catalog.entrypoints.app import build_app
from bookshelf_catalog.entrypoints.consumers import consumers
from bookshelf_catalog.service_layer.messagebus import MessageBus

SERVICE = "catalog"
ALEMBIC_DIR = Path(__file__).parent / "alembic"


def bootstrap(
    settings: CatalogSettings | None = None,
    *,
    kafka: KafkaSettings | None = None,
    relay_options: dict[str, Any] | None = None,
    consumer_options: dict[str, Any] | None = None,
) -> Components:
    """Build every component of the catalog (nothing is started or connected yet)."""
    settings = settings or CatalogSettings()
    kafka = kafka or KafkaSettings()
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    outbox = Outbox(service=SERVICE)
    bus = MessageBus(lambda: SqlAlchemyUnitOfWork.begin(session_factory, outbox))
    app = build_app(settings, bus, BookQueries(session_factory))
    relay = OutboxRelay(settings.database_url, service=SERVICE, kafka=kafka, **(relay_options or {}))
    return Components(
        settings=settings,
        app=app,
        engine=engine,
        kafka=kafka,
        relay=relay,
        consumers=runners(
            consumers(bus, **(consumer_options or {})),
            session_factory,
            kafka,
            uow=lambda session: SqlAlchemyUnitOfWork.join(session, outbox),
        ),
        alembic_dir=ALEMBIC_DIR,
    )


def from_options(options: Options) -> Components:
    """Components for ``python -m bookshelf_catalog`` (settings from the environment plus options)."""
    return bootstrap(CatalogSettings(**options.overrides()))
