"""Ordering's consumers, declared: the saga's commands and the catalog replica, on the shared runner.

Each command runs as ``handler(message, uow)`` in a unit of work joined to the runner's transaction
(``bootstrap`` passes the factory). An unknown order is permanent (``PERMANENT``): retrying cannot make
it appear, so the command is dead-lettered at once with the reason (``dlq.error_message``).

The catalog replica consumer uses one ``BatchHandler`` for every event type it reads: the runner
hands it each consecutive run of fresh messages of a partition batch, written with one statement
(``replica.on_book_events``). It publishes nothing, so it needs no per-message correlation. A run
that fails rolls back and is re-run one message per transaction (retries, then the dead letter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bookshelf_contracts import CATALOG_BOOKS, ORDERING_COMMANDS, Envelope
from bookshelf_messaging import BatchHandler, Consumer, Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_ordering.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_ordering.config import OrderingSettings
from bookshelf_ordering.domain.exceptions import OrderNotFound
from bookshelf_ordering.service_layer.handlers import COMMAND_HANDLERS
from bookshelf_ordering.service_layer.replica import EVENT_HANDLERS, on_book_events

PERMANENT: tuple[type[Exception], ...] = (OrderNotFound,)


def replica_batch_handler(outbox: Outbox) -> BatchHandler:
    """``replica.on_book_events`` as a runner batch handler, inside the runner's transaction."""

    async def handle_batch(batch: Sequence[tuple[Any, Envelope]], session: AsyncSession) -> None:
        """Apply a run of catalog events to the replica with one statement."""
        await on_book_events([message for message, _ in batch], SqlUnitOfWork.join(session, outbox))

    return BatchHandler(handle_batch)


def consumers(settings: OrderingSettings, outbox: Outbox) -> list[Consumer]:
    """``ordering.commands`` (ConfirmOrder, CancelOrder, MarkOrderShipped, MarkOrderDelivered) and
    ``catalog.books`` with its ``.bulk`` lane into the catalog replica."""
    return [
        Consumer(settings.commands_group, [ORDERING_COMMANDS], COMMAND_HANDLERS),
        Consumer(
            settings.catalog_group,
            [CATALOG_BOOKS],
            dict.fromkeys(EVENT_HANDLERS, replica_batch_handler(outbox)),
            lanes=True,
        ),
    ]
