"""Kafka consumer wiring: the saga's commands and the catalog replica, on the messaging runner.

The catalog replica consumer uses one ``BatchHandler`` for every event type it reads: the runner
hands it each consecutive run of fresh messages of a partition batch, written with one statement
(``replica.on_book_events``). It publishes nothing, so it needs no per-message correlation. A run
that fails rolls back and is re-run one message per transaction (retries, then the dead letter).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bookshelf_contracts import CATALOG_BOOKS, ORDERING_COMMANDS, Envelope, Message
from bookshelf_messaging import BatchHandler, ConsumerRunner, Handler, KafkaSettings, Outbox, PermanentError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_ordering.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_ordering.domain.exceptions import OrderNotFound
from bookshelf_ordering.service_layer.handlers import COMMAND_HANDLERS
from bookshelf_ordering.service_layer.replica import EVENT_HANDLERS, on_book_events
from bookshelf_ordering.service_layer.unit_of_work import UnitOfWork

ServiceHandler = Callable[[Any, UnitOfWork], Awaitable[None]]


def runner_handler(handler: ServiceHandler, outbox: Outbox) -> Handler:
    """A service-layer handler as a runner handler, inside the runner's transaction.

    An unknown order is a PermanentError: retrying cannot make it appear, so it is dead-lettered at
    once with the reason (``dlq.error_message``).
    """

    async def handle(message: Message, envelope: Envelope, session: AsyncSession) -> None:
        """Run the service handler on a unit of work over the runner's session."""
        uow = SqlUnitOfWork.join(session, outbox)
        try:
            await handler(message, uow)
        except OrderNotFound as exc:
            raise PermanentError(str(exc)) from exc

    return handle


def runner_handlers(table: Mapping[type[Message], ServiceHandler], outbox: Outbox) -> dict[str, Handler]:
    """``{type name: runner handler}`` of a handler table."""
    return {message_type.TYPE: runner_handler(handler, outbox) for message_type, handler in table.items()}


def replica_batch_handler(outbox: Outbox) -> BatchHandler:
    """``replica.on_book_events`` as a runner batch handler, inside the runner's transaction."""

    async def handle_batch(batch: Sequence[tuple[Any, Envelope]], session: AsyncSession) -> None:
        """Apply a run of catalog events to the replica with one statement."""
        uow = SqlUnitOfWork.join(session, outbox)
        await on_book_events([message for message, _ in batch], uow)

    return BatchHandler(handle_batch)


def commands_runner(
    session_factory: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    kafka: KafkaSettings,
    group_id: str,
) -> ConsumerRunner:
    """Consumes ``ordering.commands`` (ConfirmOrder, CancelOrder, MarkOrderShipped, MarkOrderDelivered)."""
    return ConsumerRunner(
        group_id, [ORDERING_COMMANDS], runner_handlers(COMMAND_HANDLERS, outbox), session_factory, kafka
    )


def catalog_runner(
    session_factory: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    kafka: KafkaSettings,
    group_id: str,
) -> ConsumerRunner:
    """Consumes ``catalog.books`` and its ``.bulk`` lane into the catalog replica."""
    return ConsumerRunner(
        group_id,
        [CATALOG_BOOKS],
        dict.fromkeys((event.TYPE for event in EVENT_HANDLERS), replica_batch_handler(outbox)),
        session_factory,
        kafka,
        lanes=True,
    )
