"""Kafka consumer wiring: the saga's commands and the catalog replica, on the messaging runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bookshelf_contracts import CATALOG_BOOKS, ORDERING_COMMANDS, Envelope, Message
from bookshelf_messaging import ConsumerRunner, Handler, KafkaSettings, Outbox, PermanentError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_ordering.domain.exceptions import OrderNotFound
from bookshelf_ordering.service_layer.handlers import COMMAND_HANDLERS
from bookshelf_ordering.service_layer.replica import EVENT_HANDLERS
from bookshelf_ordering.service_layer.unit_of_work import SqlUnitOfWork, UnitOfWork

COMMANDS_GROUP = "ordering.commands"
CATALOG_REPLICA_GROUP = "ordering.catalog-replica"

ServiceHandler = Callable[[Any, UnitOfWork], Awaitable[None]]


def runner_handler(handler: ServiceHandler, outbox: Outbox) -> Handler:
    """A service-layer handler as a runner handler, inside the runner's transaction.

    An unknown order is a PermanentError: retrying cannot make it appear, so it is dead-lettered at
    once with the reason (``dlq.error_message``).
    """

    async def handle(message: Message, envelope: Envelope, session: AsyncSession) -> None:
        """Run the service handler on a unit of work over the runner's session."""
        uow = SqlUnitOfWork(session, outbox, owns_transaction=False)
        try:
            await handler(message, uow)
        except OrderNotFound as exc:
            raise PermanentError(str(exc)) from exc

    return handle


def runner_handlers(table: Mapping[type[Message], ServiceHandler], outbox: Outbox) -> dict[str, Handler]:
    """``{type name: runner handler}`` of a handler table."""
    return {message_type.TYPE: runner_handler(handler, outbox) for message_type, handler in table.items()}


def commands_runner(
    session_factory: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    kafka: KafkaSettings,
    group_id: str = COMMANDS_GROUP,
) -> ConsumerRunner:
    """Consumes ``ordering.commands`` (ConfirmOrder, CancelOrder, MarkOrderShipped, MarkOrderDelivered)."""
    return ConsumerRunner(
        group_id, [ORDERING_COMMANDS], runner_handlers(COMMAND_HANDLERS, outbox), session_factory, kafka
    )


def catalog_runner(
    session_factory: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    kafka: KafkaSettings,
    group_id: str = CATALOG_REPLICA_GROUP,
) -> ConsumerRunner:
    """Consumes ``catalog.books`` and its ``.bulk`` lane into the catalog replica."""
    return ConsumerRunner(
        group_id,
        [CATALOG_BOOKS],
        runner_handlers(EVENT_HANDLERS, outbox),
        session_factory,
        kafka,
        lanes=True,
    )
