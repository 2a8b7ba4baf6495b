"""Kafka consumer wiring: which group reads which topic with which handlers.

| group | topics | handles |
|---|---|---|
| ``inventory.catalog-events`` | ``catalog.books`` (+ ``.bulk`` lane) | BookAdded, BookDetailsUpdated |
| ``inventory.commands`` | ``inventory.commands`` | ReserveStock, ReleaseStock, CommitStock |
| ``inventory.supplier-feed`` | ``supplier.book-supply`` | SupplierPayloadReceived (stock_replenished) |

Each handler runs as ``handler(message, uow)`` in a unit of work joined to the runner's transaction
(the one that writes the inbox row; ``bootstrap`` passes the factory); its events go to the outbox in
that transaction. Handlers that lock stock rows serialise their batches through an
advisory lock, so batches of different partitions never deadlock. Domain errors retrying cannot fix
(``PERMANENT``) become ``PermanentError`` (dead letter at once, the message naming the field and
value); anything else is retried, then dead-lettered.

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
    SupplierPayloadReceived,
)
from bookshelf_messaging import BatchHandler, Consumer, Outbox
from bookshelf_messaging.handlers import UnitOfWorkHandler
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

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


def locking_stock(handler: UnitOfWorkHandler) -> UnitOfWorkHandler:
    """``handler`` after taking the stock writers lock in the unit of work's transaction: it row-locks
    stock records, so batches must not deadlock each other (see ``take_stock_writers_lock``)."""

    async def handle(message: Any, uow: SqlUnitOfWork) -> None:
        await take_stock_writers_lock(uow.session)
        await handler(message, uow)

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


def consumers(
    settings: InventorySettings, outbox: Outbox, topics: InputTopics = InputTopics()
) -> list[Consumer]:
    """The three consumer groups of inventory (see the module table)."""
    events = handlers.event_handlers(initial_stock=settings.initial_stock)
    commands = {name: locking_stock(handler) for name, handler in handlers.COMMAND_HANDLERS.items()}
    return [
        Consumer(
            settings.catalog_group,
            [topics.catalog],
            {BookAdded: events[BookAdded.TYPE], BookDetailsUpdated: details_batch_handler(outbox)},
            lanes=True,
        ),
        Consumer(settings.commands_group, [topics.commands], commands),
        Consumer(
            settings.supplier_group,
            [topics.supplier],
            {SupplierPayloadReceived: locking_stock(_restock_from_supplier)},
            options={
                "max_retries": settings.supplier_max_retries,
                "backoff_base_s": settings.supplier_backoff_s,
            },
        ),
    ]
