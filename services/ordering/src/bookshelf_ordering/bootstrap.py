"""The one place that wires ordering's real dependencies into servicekit ``Components``."""

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
from bookshelf_servicekit.ratelimit import RateLimiter
from bookshelf_servicekit.runtime import Components, Options

from bookshelf_ordering.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_ordering.config import OrderingSettings
from bookshelf_ordering.domain.exceptions import InvalidOrder, OrderNotFound, TransitionNotAllowed
from bookshelf_ordering.entrypoints import api
from bookshelf_ordering.entrypoints.consumers import PERMANENT, consumers
from bookshelf_ordering.entrypoints.deps import STATE_KEY, OrderingDeps
from bookshelf_ordering.migrations import ALEMBIC_DIR
from bookshelf_ordering.service_layer.access import OrderTokens

SERVICE = "ordering"

# Domain errors as problem+json statuses.
PROBLEMS: dict[type[Exception], int] = {
    InvalidOrder: 422,
    OrderNotFound: 404,
    TransitionNotAllowed: 409,
}


def bootstrap(settings: OrderingSettings | None = None, kafka: KafkaSettings | None = None) -> Components:
    """Engine, outbox, app, relay and the two consumer runners of ordering."""
    settings = settings or OrderingSettings()
    kafka = kafka or KafkaSettings()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    session_factory = create_session_factory(engine)
    outbox = Outbox(service=SERVICE)
    app = create_app(
        SERVICE,
        settings=settings,
        routers=[api.router],
        problems=PROBLEMS,
        description="Orders: placement priced from a catalog replica, status machine, customer cancel.",
    )
    tokens = OrderTokens(settings.secret("access_token_secret").encode())
    limiter = RateLimiter(per_minute=settings.place_rate_per_minute, burst=settings.place_burst)
    setattr(app.state, STATE_KEY, OrderingDeps(session_factory, outbox, tokens, limiter))
    return Components(
        settings=settings,
        app=app,
        engine=engine,
        kafka=kafka,
        relay=OutboxRelay(settings.database_url, service=SERVICE, kafka=kafka),
        consumers=runners(
            consumers(settings, outbox),
            session_factory,
            kafka,
            uow=lambda session: SqlUnitOfWork.join(session, outbox),
            permanent=PERMANENT,
        ),
        alembic_dir=ALEMBIC_DIR,
    )


def build_components(options: Options) -> Components:
    """``run_service`` hook: the command-line role/host/port are applied by the runtime itself."""
    return bootstrap()
