"""Handlers through the message bus with a fake unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from bookshelf_catalog.domain.exceptions import BookNotFound, DuplicateIsbn, InvalidBook
from bookshelf_catalog.domain.model import Book
from bookshelf_catalog.service_layer import commands
from bookshelf_catalog.service_layer.messagebus import MessageBus
from bookshelf_contracts.testing import usd
from bookshelf_servicekit.idempotency import IdempotencyKeyReused, IdempotencyRequest

from .conftest import FakeUnitOfWork

ISBN = "9780306406157"


def add(**fields: object) -> commands.AddBook:
    return commands.AddBook(
        fields={"title": "Dune", "author": "Frank Herbert", "price": usd("9.99"), **fields}
    )


async def test_add_book_stores_and_publishes_book_added(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    book: Book = await bus.handle(add(isbn=ISBN))
    assert uow.books.rows[book.book_id] is book
    assert [m.TYPE for m in uow.messages()] == ["BookAdded"]
    assert uow.published[0][1] == "primary"
    assert uow.commits == 1


async def test_duplicate_isbn_is_rejected_without_events(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    await bus.handle(add(isbn=ISBN))
    with pytest.raises(DuplicateIsbn, match=ISBN):
        await bus.handle(add(isbn="0-306-40615-2"))  # the same book as ISBN-10
    assert len(uow.messages()) == 1


async def test_update_unknown_book_is_not_found(bus: MessageBus) -> None:
    with pytest.raises(BookNotFound):
        await bus.handle(commands.UpdateBook(book_id=uuid4(), changes={"title": "x"}))


async def test_update_publishes_price_then_details(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    book: Book = await bus.handle(add())
    await bus.handle(
        commands.UpdateBook(book_id=book.book_id, changes={"price": usd("1.00"), "title": "New"})
    )
    assert [(m.TYPE, m.version) for m in uow.messages()] == [  # type: ignore[attr-defined]
        ("BookAdded", 1),
        ("BookPriceUpdated", 2),
        ("BookDetailsUpdated", 3),
    ]


async def test_import_accepts_good_rows_and_reports_bad_ones(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    await bus.handle(add(isbn=ISBN))
    records = [
        {"title": "A", "author": "X", "isbn": "", "price": "10.00", "currency": "EUR"},
        {"title": "", "author": "X", "price": "abc"},
        {"title": "B", "author": "Y", "isbn": "9780441013593", "price": "5"},
        {"title": "C", "author": "Z", "isbn": "978-0-441-01359-3", "price": "6"},
        {"title": "D", "author": "Z", "isbn": ISBN, "price": "7"},
        {"title": "E", "author": "Z", "price": {"amount": "1.50", "currency": "GBP"}, "genre": "HISTORY"},
        "not an object",
    ]
    result = await bus.handle(commands.ImportBooks(records=records))
    assert result.accepted == 3
    rejected = {r["row"]: {e["field"] for e in r["errors"]} for r in result.rejected}
    assert rejected == {2: {"title", "price"}, 4: {"isbn"}, 5: {"isbn"}, 7: {"row"}}
    assert "repeats row 3" in result.rejected[1]["errors"][0]["message"]
    bulk = [m for m, lane in uow.published if lane == "bulk"]
    assert [m.TYPE for m in bulk] == ["BookAdded"] * 3


async def test_supplier_payload_is_stored_once_per_id(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    payload = {"id": "sup-42", "event_type": "new_book_available", "title": "T"}
    now = datetime.now(UTC)
    first = await bus.handle(commands.ReceiveSupplierPayload(payload=payload, received_at=now))
    again = await bus.handle(commands.ReceiveSupplierPayload(payload=payload, received_at=now))
    assert first == again
    [message] = uow.messages("SupplierPayloadReceived")
    assert message.event_type == "new_book_available"  # type: ignore[attr-defined]
    assert message.payload == payload  # type: ignore[attr-defined]


async def test_supplier_payload_without_id_gets_a_new_one(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    now = datetime.now(UTC)
    await bus.handle(commands.ReceiveSupplierPayload(payload={"x": 1}, received_at=now))
    await bus.handle(commands.ReceiveSupplierPayload(payload={"x": 1}, received_at=now))
    messages = uow.messages("SupplierPayloadReceived")
    assert len({m.payload_id for m in messages}) == 2  # type: ignore[attr-defined]
    assert messages[0].event_type == "<missing>"  # type: ignore[attr-defined]


async def test_replayed_delivery_of_a_payload_without_id_is_stored_once(
    bus: MessageBus, uow: FakeUnitOfWork
) -> None:
    now = datetime.now(UTC)

    def delivery(signature: str) -> commands.ReceiveSupplierPayload:
        return commands.ReceiveSupplierPayload(payload={"x": 1}, received_at=now, delivery_id=signature)

    first = await bus.handle(delivery("sha256=aa"))
    assert await bus.handle(delivery("sha256=aa")) == first  # the same delivery, replayed
    assert await bus.handle(delivery("sha256=bb")) != first  # sent again later: a new delivery
    assert len(uow.messages("SupplierPayloadReceived")) == 2


async def test_supplied_book_with_known_isbn_is_a_noop(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    await bus.handle(add(isbn=ISBN))
    assert await bus.handle(commands.AddSuppliedBook(fields=add(isbn=ISBN).fields)) is None
    assert len(uow.books.rows) == 1


async def test_supplied_book_with_bad_values_raises_invalid_book(bus: MessageBus) -> None:
    with pytest.raises(InvalidBook, match="title"):
        await bus.handle(commands.AddSuppliedBook(fields=add(title="x" * 201).fields))


async def test_idempotent_create_replays_and_detects_reuse(bus: MessageBus, uow: FakeUnitOfWork) -> None:
    def render(book: Book) -> dict[str, str]:
        return {"book_id": str(book.book_id)}

    key = IdempotencyRequest.of("k", "POST", "/books", b"body")
    first = await bus.handle_idempotent(add(), key, render)
    again = await bus.handle_idempotent(add(), key, render)
    assert again.replayed
    assert again.body == first.body
    assert len(uow.books.rows) == 1
    with pytest.raises(IdempotencyKeyReused):
        await bus.handle_idempotent(add(), IdempotencyRequest.of("k", "POST", "/books", b"other"), render)
