"""The one place that wires inventory's real dependencies: engine, outbox, relay, consumers, app."""

from __future__ import annotations

from bookshelf_messaging import (
    KafkaSettings,
    Outbox,
    OutboxRelay,
    create_engine,
    create_session_factory,
    runners,
)
from bookshelf_servicekit import create_app
from bookshelf_servicekit.runtime import Components, Options

from bookshelf_inventory.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_inventory.config import InventorySettings
from bookshelf_inventory.domain.exceptions import InvalidQuantity, InventoryNotFound, ReservationNotFound
from bookshelf_inventory.entrypoints.api import router
from bookshelf_inventory.entrypoints.consumers import PERMANENT, InputTopics, consumers
from bookshelf_inventory.entrypoints.deps import InventoryServices
from bookshelf_inventory.migrations import ALEMBIC_DIR

SERVICE = "inventory"
PROBLEMS: dict[type[Exception], int] = {
    InventoryNotFound: 404,
    ReservationNotFound: 404,
    InvalidQuantity: 422,
}
DESCRIPTION = (
    "Stock per book and reservations per order. Consumes catalog.books, inventory.commands and "
    "supplier.book-supply; publishes inventory.stock and inventory.reservations."
)


def build(
    settings: InventorySettings | None = None,
    kafka: KafkaSettings | None = None,
    *,
    topics: InputTopics = InputTopics(),
) -> Components:
    """Every component of the service; nothing runs until the runtime (or a test) starts it.

    ``topics`` only changes in tests (unique input topics, isolated from other tests' messages).
    """
    settings = settings or InventorySettings()
    kafka = kafka or KafkaSettings()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    session_factory = create_session_factory(engine)
    outbox = Outbox(service=SERVICE)
    app = create_app(SERVICE, settings=settings, routers=[router], problems=PROBLEMS, description=DESCRIPTION)
    app.state.inventory = InventoryServices(session_factory, outbox, settings)
    return Components(
        settings=settings,
        app=app,
        engine=engine,
        kafka=kafka,
        relay=OutboxRelay(settings.database_url, service=SERVICE, kafka=kafka),
        consumers=runners(
            consumers(settings, outbox, topics),
            session_factory,
            kafka,
            uow=lambda session: SqlUnitOfWork.join(session, outbox),
            permanent=PERMANENT,
        ),
        alembic_dir=ALEMBIC_DIR,
    )


def build_components(options: Options) -> Components:
    """``run_service`` hook: settings from the environment plus the command-line overrides."""
    return build(InventorySettings(**options.overrides()))
