"""The one place that wires real dependencies: settings, database, outbox, relay, consumer, app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_shipping.adapters import queries
from bookshelf_shipping.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_shipping.config import ShippingSettings
from bookshelf_shipping.domain.exceptions import InvalidTransition, ShipmentNotFound, TransitionAlreadyMade
from bookshelf_shipping.entrypoints.api import router
from bookshelf_shipping.entrypoints.consumers import consumers
from bookshelf_shipping.entrypoints.deps import STATE_KEY, ShippingRuntime
from bookshelf_shipping.migrations import ALEMBIC_DIR
from bookshelf_shipping.service_layer import metrics
from bookshelf_shipping.service_layer.handlers import ShippingDeps

SERVICE = "shipping"


def awaiting_dispatch_hook(
    session_factory: async_sessionmaker[AsyncSession], limit_s: float
) -> Callable[[], Awaitable[None]]:
    """Refresh the awaiting-dispatch gauges from the database (run before each /metrics answer)."""

    async def refresh_awaiting_dispatch() -> None:
        async with session_factory() as session:
            waiting, oldest, overdue = await queries.awaiting_dispatch(session, limit_s)
        metrics.AWAITING_DISPATCH.set(waiting)
        metrics.AWAITING_DISPATCH_OLDEST_AGE.set(oldest)
        metrics.AWAITING_DISPATCH_OVERDUE.set(overdue)
        metrics.AWAITING_DISPATCH_LIMIT.set(limit_s)

    return refresh_awaiting_dispatch


PROBLEMS: dict[type[Exception], int] = {
    ShipmentNotFound: 404,
    InvalidTransition: 409,
    TransitionAlreadyMade: 409,
}


def build(
    settings: ShippingSettings | None = None,
    kafka: KafkaSettings | None = None,
    *,
    deps: ShippingDeps | None = None,
) -> Components:
    """The service's components; tests pass their database, broker, group id and fake tracking numbers."""
    settings = settings or ShippingSettings()
    kafka = kafka or KafkaSettings()
    deps = deps or ShippingDeps(served=settings.served_countries)
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    outbox = Outbox(service=SERVICE)
    app = create_app(
        SERVICE,
        settings=settings,
        routers=[router],
        problems=PROBLEMS,
        title="Bookshelf shipping",
        description="Shipments per order: deliverability, tracking numbers, dispatch and delivery.",
        metrics_hooks=[awaiting_dispatch_hook(session_factory, settings.awaiting_dispatch_max_s)],
    )
    setattr(app.state, STATE_KEY, ShippingRuntime(session_factory, outbox, deps))
    return Components(
        settings=settings,
        app=app,
        engine=engine,
        kafka=kafka,
        relay=OutboxRelay(settings.database_url, service=SERVICE, kafka=kafka),
        consumers=runners(
            consumers(settings.commands_group, deps),
            session_factory,
            kafka,
            uow=lambda session: SqlUnitOfWork.join(session, outbox),
        ),
        alembic_dir=ALEMBIC_DIR,
    )


def build_components(options: Options) -> Components:
    """``run_service`` entry: settings from the environment plus the command-line overrides."""
    return build(ShippingSettings(**options.overrides()))
