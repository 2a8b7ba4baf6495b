"""Command and event handlers: small async functions, registered in the tables at the bottom.

Each takes the message and a unit of work whose transaction the caller owns; the caller flushes the
recorded events to the outbox before it commits. Dependencies beyond the unit of work (the initial
stock) are bound with ``functools.partial`` in ``event_handlers``, which bootstrap calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

import structlog
from bookshelf_contracts import (
    BookAdded,
    BookDetailsUpdated,
    CommitStock,
    ReleaseStock,
    ReserveStock,
    SupplierPayloadReceived,
)

from bookshelf_inventory.domain.exceptions import CannotCommit, InventoryNotFound
from bookshelf_inventory.domain.reservation import Reservation, ReservationStatus, merge_lines
from bookshelf_inventory.domain.stock import StockRecord
from bookshelf_inventory.domain.supplier import translate
from bookshelf_inventory.service_layer.unit_of_work import UnitOfWork

log = structlog.get_logger("bookshelf.inventory")


class UnknownIsbn(LookupError):
    """A supplier restock names an ISBN no BookAdded announced (yet: it may be a race, so retried)."""

    def __init__(self, isbn: str) -> None:
        super().__init__(f"no book with payload.isbn {isbn} in inventory's catalog replica")
        self.isbn = isbn


# --- catalog events ------------------------------------------------------------------------------


async def add_inventory(event: BookAdded, uow: UnitOfWork, *, initial_stock: int) -> None:
    """BookAdded: remember the title and ISBN; create the book's stock record once."""
    await uow.books.upsert(event.book_id, event.title, event.isbn, event.version)
    await uow.stock.add(StockRecord.create(event.book_id, initial_stock))


async def update_book_details(event: BookDetailsUpdated, uow: UnitOfWork) -> None:
    """BookDetailsUpdated: keep the newest title and ISBN (stock is untouched)."""
    await uow.books.upsert(event.book_id, event.title, event.isbn, event.version)


async def update_many_book_details(events: Sequence[BookDetailsUpdated], uow: UnitOfWork) -> None:
    """A run of BookDetailsUpdated at once (the consumer's batch handler; nothing is published)."""
    await uow.books.upsert_many([(e.book_id, e.title, e.isbn, e.version) for e in events])


# --- restock ---------------------------------------------------------------------------------------


async def restock(book_id: UUID, quantity: int, uow: UnitOfWork) -> StockRecord:
    """Add 1-100000 units on hand of a book; raises InventoryNotFound or InvalidQuantity."""
    record = (await uow.stock.lock([book_id])).get(book_id)
    if record is None:
        raise InventoryNotFound(book_id)
    record.restock(quantity)
    await uow.stock.save([record])
    return record


async def restock_from_supplier(event: SupplierPayloadReceived, uow: UnitOfWork) -> bool:
    """SupplierPayloadReceived: restock on ``stock_replenished``; True when stock changed.

    Other event types are ignored. A bad payload raises InvalidSupplierPayload (never fixed by a
    retry); an unknown book raises InventoryNotFound / UnknownIsbn, which the consumer retries,
    because the book's BookAdded may simply not have arrived yet.
    """
    request = translate(event.event_type, event.payload)
    if request is None:
        return False
    book_id = request.book_id
    if book_id is None:
        assert request.isbn is not None  # translate() guarantees one of the two
        book_id = await uow.books.book_id_for_isbn(request.isbn)
        if book_id is None:
            raise UnknownIsbn(request.isbn)
    await restock(book_id, request.quantity, uow)
    return True


# --- reservations ----------------------------------------------------------------------------------


async def reserve_stock(command: ReserveStock, uow: UnitOfWork) -> Reservation:
    """ReserveStock: all lines or none; a repeat for the same order answers the stored outcome.

    A released order (its reservation or its tombstone) reserves nothing: StockReservationFailed
    with the reason ``order closed``.
    """
    lines = merge_lines(command.lines)
    stock = await uow.stock.lock(list(lines))
    reservation = Reservation.place(command.order_id, lines, stock)
    if await uow.reservations.add(reservation):
        await uow.stock.save([stock[book_id] for book_id in reservation.lines])
        return reservation
    # The order already has a reservation (another delivery committed first): nothing was written,
    # so drop the in-memory changes and answer what was decided then.
    uow.discard(*stock.values())
    stored = await uow.reservations.lock(command.order_id)
    assert stored is not None  # the insert conflicted with it, and reservations are never deleted
    stored.answer_again()
    return stored


async def release_stock(command: ReleaseStock, uow: UnitOfWork) -> Reservation | None:
    """ReleaseStock: return exactly what the order reserved; later releases change nothing.

    An already released order re-answers StockReleased; a refused or committed order changes
    nothing and answers nothing. An unknown order gets a tombstone (RELEASED, no lines, no event):
    a ReserveStock that arrives later (a replayed dead letter) is refused instead of holding stock
    for a closed order.
    """
    reservation = await uow.reservations.lock(command.order_id)
    if reservation is None:
        if await uow.reservations.add(Reservation.tombstone(command.order_id)):
            log.info("release of an order without reservation: tombstone", order_id=str(command.order_id))
            return None
        reservation = await uow.reservations.lock(command.order_id)  # a reserve committed meanwhile
        assert reservation is not None
    stock = await _lock_if_open(reservation, uow)
    if reservation.release(stock):
        await uow.stock.save(list(stock.values()))
        await uow.reservations.save(reservation)
    return reservation


async def commit_stock(command: CommitStock, uow: UnitOfWork) -> Reservation:
    """CommitStock: reserved goods left; on_hand and reserved go down. Idempotent.

    Raises CannotCommit for an unknown, refused or released order (goods were never held for it).
    """
    reservation = await uow.reservations.lock(command.order_id)
    if reservation is None:
        raise CannotCommit(command.order_id, None)
    stock = await _lock_if_open(reservation, uow)
    if reservation.commit(stock):
        await uow.stock.save(list(stock.values()))
        await uow.reservations.save(reservation)
    return reservation


async def _lock_if_open(reservation: Reservation, uow: UnitOfWork) -> dict[UUID, StockRecord]:
    # Lock order everywhere: the reservation row first (above), then stock rows by book_id.
    if reservation.status is not ReservationStatus.RESERVED:
        return {}
    return await uow.stock.lock(list(reservation.lines))


Handler = Callable[[Any, UnitOfWork], Awaitable[Any]]

COMMAND_HANDLERS: dict[str, Handler] = {
    ReserveStock.TYPE: reserve_stock,
    ReleaseStock.TYPE: release_stock,
    CommitStock.TYPE: commit_stock,
}


def event_handlers(*, initial_stock: int) -> dict[str, Handler]:
    """EVENT_HANDLERS with their dependencies bound (BookAdded needs the initial stock)."""
    return {
        BookAdded.TYPE: partial(add_inventory, initial_stock=initial_stock),
        BookDetailsUpdated.TYPE: update_book_details,
        SupplierPayloadReceived.TYPE: restock_from_supplier,
    }
