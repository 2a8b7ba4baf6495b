"""Handlers on an in-memory unit of work: idempotency and the events each handler emits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from bookshelf_contracts import (
    BookAdded,
    BookDetailsUpdated,
    CommitStock,
    Event,
    InventoryLevelChanged,
    Money,
    ReleaseStock,
    ReserveStock,
    StockCommitted,
    StockLine,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    StockRestocked,
    SupplierPayloadReceived,
)
from bookshelf_inventory.domain.exceptions import CannotCommit, InventoryNotFound
from bookshelf_inventory.domain.supplier import InvalidSupplierPayload
from bookshelf_inventory.service_layer import handlers

ISBN = "9780306406157"


def _book_added(book_id: uuid.UUID, isbn: str | None = None, title: str = "Dune") -> BookAdded:
    price = Money(amount=Decimal("9.99"), currency="USD")
    return BookAdded(book_id=book_id, title=title, author="Frank Herbert", isbn=isbn, price=price, version=1)


async def _add_book(uow: Any, isbn: str | None = None, initial: int = 10) -> uuid.UUID:
    book_id = uuid.uuid4()
    await handlers.add_inventory(_book_added(book_id, isbn), uow, initial_stock=initial)
    await uow.commit()
    uow.published.clear()
    return book_id


async def _run(uow: Any, handler: Any, message: Any) -> list[Event]:
    await handler(message, uow)
    await uow.commit()
    published, uow.published = list(uow.published), []
    return published


def _reserve(order_id: uuid.UUID, *lines: tuple[uuid.UUID, int]) -> ReserveStock:
    return ReserveStock(order_id=order_id, lines=[StockLine(book_id=b, quantity=q) for b, q in lines])


async def test_book_added_creates_the_record_once(inventory_uow: Any) -> None:
    book_id = uuid.uuid4()
    event = _book_added(book_id)
    await handlers.add_inventory(event, inventory_uow, initial_stock=7)
    await handlers.add_inventory(event, inventory_uow, initial_stock=7)
    await inventory_uow.commit()
    assert inventory_uow.published == [
        InventoryLevelChanged(book_id=book_id, on_hand=7, reserved=0, available=7, version=1)
    ]
    assert inventory_uow.books.books[book_id] == ("Dune", None, 1)


async def test_book_details_update_the_replica_by_version(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow, ISBN)
    newer = BookDetailsUpdated(**{**_book_added(book_id, ISBN, "Dune II").model_dump(), "version": 3})
    older = BookDetailsUpdated(**{**_book_added(book_id, ISBN, "Dune I").model_dump(), "version": 2})
    assert await _run(inventory_uow, handlers.update_book_details, newer) == []
    await _run(inventory_uow, handlers.update_book_details, older)
    assert inventory_uow.books.books[book_id] == ("Dune II", ISBN, 3)


async def test_reserve_twice_reserves_once_and_answers_the_same(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow)
    command = _reserve(uuid.uuid4(), (book_id, 3))
    first = await _run(inventory_uow, handlers.reserve_stock, command)
    again = await _run(inventory_uow, handlers.reserve_stock, command)
    assert isinstance(first[0], StockReserved)
    assert first[1].available == 7
    assert again == [first[0]]
    assert inventory_uow.stock.rows[book_id]["reserved"] == 3


async def test_refused_reservation_is_stored_and_answered_again(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow, initial=2)
    order_id = uuid.uuid4()
    refused = await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 3)))
    assert [type(e) for e in refused] == [StockReservationFailed]
    # Even after a restock, the same order answers its stored refusal (no second decision).
    await handlers.restock(book_id, 10, inventory_uow)
    await inventory_uow.commit()
    inventory_uow.published.clear()
    again = await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 3)))
    assert again == refused
    assert inventory_uow.stock.rows[book_id]["reserved"] == 0


async def test_release_emits_released_and_levels_then_repeats_the_answer(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow)
    order_id = uuid.uuid4()
    await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 4)))
    released = await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=order_id))
    assert [type(e) for e in released] == [StockReleased, InventoryLevelChanged]
    assert released[1].available == 10  # type: ignore[attr-defined]
    again = await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=order_id))
    assert again == [released[0]]
    assert inventory_uow.stock.rows[book_id]["version"] == 3


async def test_release_of_an_unknown_order_changes_and_answers_nothing(inventory_uow: Any) -> None:
    assert await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=uuid.uuid4())) == []


async def test_a_reserve_replayed_after_the_release_is_refused_as_closed(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow)
    order_id = uuid.uuid4()
    await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 4)))
    await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=order_id))

    replayed = await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 4)))

    assert replayed == [StockReservationFailed(order_id=order_id, short_lines=[], reason="order closed")]
    assert inventory_uow.stock.rows[book_id]["reserved"] == 0


async def test_a_release_before_any_reserve_leaves_a_tombstone_that_refuses_it(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow)
    order_id = uuid.uuid4()  # its ReserveStock was dead-lettered, the saga released the order meanwhile
    assert await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=order_id)) == []

    replayed = await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 2)))

    assert replayed == [StockReservationFailed(order_id=order_id, short_lines=[], reason="order closed")]
    row = inventory_uow.stock.rows[book_id]
    assert (row["reserved"], row["version"]) == (0, 1)  # nothing reserved, no level change
    assert await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=order_id)) == [
        StockReleased(order_id=order_id, lines=[])
    ]


async def test_commit_is_idempotent_and_release_after_commit_is_a_no_op(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow)
    order_id = uuid.uuid4()
    await _run(inventory_uow, handlers.reserve_stock, _reserve(order_id, (book_id, 4)))
    committed = await _run(inventory_uow, handlers.commit_stock, CommitStock(order_id=order_id))
    assert [type(e) for e in committed] == [StockCommitted, InventoryLevelChanged]
    assert await _run(inventory_uow, handlers.commit_stock, CommitStock(order_id=order_id)) == [committed[0]]
    assert await _run(inventory_uow, handlers.release_stock, ReleaseStock(order_id=order_id)) == []
    row = inventory_uow.stock.rows[book_id]
    assert (row["on_hand"], row["reserved"], row["committed"]) == (6, 0, 4)


async def test_commit_of_an_unknown_order_is_refused(inventory_uow: Any) -> None:
    order_id = uuid.uuid4()
    with pytest.raises(CannotCommit, match=str(order_id)):
        await handlers.commit_stock(CommitStock(order_id=order_id), inventory_uow)


async def test_restock_of_an_unknown_book_is_not_found(inventory_uow: Any) -> None:
    with pytest.raises(InventoryNotFound):
        await handlers.restock(uuid.uuid4(), 5, inventory_uow)


def _supplier(event_type: str, payload: dict[str, Any]) -> SupplierPayloadReceived:
    return SupplierPayloadReceived(
        payload_id=uuid.uuid4(), event_type=event_type, payload=payload, received_at=datetime.now(UTC)
    )


async def test_supplier_restock_by_isbn(inventory_uow: Any) -> None:
    book_id = await _add_book(inventory_uow, ISBN)
    message = _supplier("stock_replenished", {"isbn": ISBN, "quantity": 5})
    events = await _run(inventory_uow, handlers.restock_from_supplier, message)
    assert events[0] == StockRestocked(book_id=book_id, quantity=5, on_hand=15, version=2)


async def test_supplier_other_types_ignored_and_bad_payloads_refused(inventory_uow: Any) -> None:
    assert await handlers.restock_from_supplier(_supplier("new_book_available", {}), inventory_uow) is False
    with pytest.raises(InvalidSupplierPayload, match=r"payload\.quantity"):
        await handlers.restock_from_supplier(_supplier("stock_replenished", {"isbn": ISBN}), inventory_uow)


async def test_supplier_unknown_isbn_raises_a_retryable_error(inventory_uow: Any) -> None:
    message = _supplier("stock_replenished", {"isbn": ISBN, "quantity": 1})
    with pytest.raises(handlers.UnknownIsbn, match=ISBN):
        await handlers.restock_from_supplier(message, inventory_uow)
