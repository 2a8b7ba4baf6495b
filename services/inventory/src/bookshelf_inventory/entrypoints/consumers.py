"""Kafka consumer wiring: which group reads which topic with which handlers.

| group | topics | handles |
|---|---|---|
| ``inventory.catalog-events`` | ``catalog.books`` (+ ``.bulk`` lane) | BookAdded, BookDetailsUpdated |
| ``inventory.commands`` | ``inventory.commands`` | ReserveStock, ReleaseStock, CommitStock |
| ``inventory.supplier-feed`` | ``supplier.book-supply`` | SupplierPayloadReceived (stock_replenished) |

Each handler runs in the runner's transaction (the one that writes the inbox row); its events go to
the outbox in that transaction. Handlers that lock stock rows serialise their batches through an
advisory lock, so batches of different partitions never deadlock. Domain errors retrying cannot fix become ``PermanentError`` (dead
letter at once, the message naming the field and value); anything else is retried, then
dead-lettered.

BookDetailsUpdated only upserts the catalog replica (title, ISBN -> book_id) and publishes nothing,
so it runs as a ``BatchHandler``: a run of them in a partition batch is one executemany. BookAdded
stays one call per message: it creates the stock record (INITIAL_STOCK once, ``ON CONFLICT DO
NOTHING``) and publishes its first InventoryLevelChanged, which needs the message's correlation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_COMMANDS,
    SUPPLIER_BOOK_SUPPLY,
    BookAdded,
    BookDetailsUpdated,
    Envelope,
    Message,
    SupplierPayloadReceived,
)
from bookshelf_messaging import BatchHandler, ConsumerRunner, Handler, KafkaSettings, Outbox, PermanentError
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_inventory.adapters.repositories import take_stock_writers_lock
from bookshelf_inventory.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_inventory.config import InventorySettings
from bookshelf_inventory.domain.exceptions import CannotCommit, InvalidQuantity, StockInvariantBroken
from bookshelf_inventory.domain.supplier import InvalidSupplierPayload
from bookshelf_inventory.service_layer import handlers
from bookshelf_inventory.service_layer.unit_of_work import UnitOfWork

# Errors about the message itself: the same message would fail the same way on every retry.
PERMANENT: tuple[type[Exception], ...] = (
    InvalidSupplierPayload,
    InvalidQuantity,
    CannotCommit,
    StockInvariantBroken,
)

SUPPLIER_PAYLOADS = Counter(
    "bookshelf_inventory_supplier_payloads_total",
    "Supplier payloads handled by inventory, by outcome (restocked or ignored event type)",
    ["outcome"],
)


@dataclass(frozen=True, slots=True)
class InputTopics:
    """The topics inventory consumes; tests pass unique names so no other test's messages reach them."""

    catalog: str = CATALOG_BOOKS
    commands: str = INVENTORY_COMMANDS
    supplier: str = SUPPLIER_BOOK_SUPPLY


def consumer_handler(handler: handlers.Handler, outbox: Outbox, *, locks_stock: bool = False) -> Handler:
    """A messaging handler running ``handler`` in the runner's transaction, then flushing its events.

    ``locks_stock``: the handler row-locks stock records, so the batch transaction first takes the
    stock writers lock (see ``take_stock_writers_lock``: batches must not deadlock each other).
    """

    async def handle(message: Message, envelope: Envelope, session: AsyncSession) -> None:
        if locks_stock:
            await take_stock_writers_lock(session)
        uow = SqlUnitOfWork.join(session, outbox)
        try:
            await handler(message, uow)
        except PERMANENT as exc:
            raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
        await uow.commit()

    return handle


def details_batch_handler(outbox: Outbox) -> BatchHandler:
    """``handlers.update_many_book_details`` as a runner batch handler (it publishes nothing)."""

    async def handle_batch(batch: Sequence[tuple[Any, Envelope]], session: AsyncSession) -> None:
        """Apply a run of BookDetailsUpdated to the catalog replica with one executemany."""
        await handlers.update_many_book_details(
            [message for message, _ in batch], SqlUnitOfWork.join(session, outbox)
        )

    return BatchHandler(handle_batch)


async def _restock_from_supplier(message: Any, uow: UnitOfWork) -> bool:
    restocked = await handlers.restock_from_supplier(message, uow)
    SUPPLIER_PAYLOADS.labels("restocked" if restocked else "ignored").inc()
    return restocked


def build_consumers(
    settings: InventorySettings,
    kafka: KafkaSettings,
    session_factory: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    topics: InputTopics = InputTopics(),
) -> list[ConsumerRunner]:
    """The three consumer runners of inventory (see the module table)."""
    events = handlers.event_handlers(initial_stock=settings.initial_stock)
    catalog: dict[str, Handler | BatchHandler] = {
        BookAdded.TYPE: consumer_handler(events[BookAdded.TYPE], outbox),
        BookDetailsUpdated.TYPE: details_batch_handler(outbox),
    }
    commands = {
        name: consumer_handler(h, outbox, locks_stock=True) for name, h in handlers.COMMAND_HANDLERS.items()
    }
    supplier = {
        SupplierPayloadReceived.TYPE: consumer_handler(_restock_from_supplier, outbox, locks_stock=True)
    }
    return [
        ConsumerRunner(settings.catalog_group, [topics.catalog], catalog, session_factory, kafka, lanes=True),
        ConsumerRunner(settings.commands_group, [topics.commands], commands, session_factory, kafka),
        ConsumerRunner(
            settings.supplier_group,
            [topics.supplier],
            supplier,
            session_factory,
            kafka,
            max_retries=settings.supplier_max_retries,
            backoff_base_s=settings.supplier_backoff_s,
        ),
    ]
