"""The supplier ACL consumer: stock_replenished restocks by ISBN or book_id; bad payloads go to the DLQ."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bookshelf_contracts import SUPPLIER_BOOK_SUPPLY, BookAdded, Money, SupplierPayloadReceived
from bookshelf_infra.testing import eventually
from prometheus_client import REGISTRY

from .conftest import RunningInventory

WAIT = 30.0


def _random_isbn13() -> str:
    first12 = "979" + "".join(random.choices("0123456789", k=9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def _payload(event_type: str, payload: dict[str, Any]) -> SupplierPayloadReceived:
    return SupplierPayloadReceived(
        payload_id=uuid.uuid4(),
        event_type=event_type,
        payload={"event_type": event_type, **payload},
        received_at=datetime.now(UTC),
    )


async def _stocked_book(svc: RunningInventory, isbn: str | None = None) -> uuid.UUID:
    book_id = uuid.uuid4()
    price = Money(amount=Decimal("12.50"), currency="EUR")
    await svc.send(
        BookAdded(book_id=book_id, title="Solaris", author="Lem", isbn=isbn, price=price, version=1)
    )

    async def created() -> bool:
        return (await svc.http.get(f"/inventory/{book_id}")).status_code == 200

    await eventually(created, timeout=WAIT)
    return book_id


async def _on_hand(svc: RunningInventory, book_id: uuid.UUID) -> int:
    return int((await svc.http.get(f"/inventory/{book_id}")).json()["on_hand"])


async def test_stock_replenished_by_isbn_restocks_the_book(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    isbn = _random_isbn13()
    book_id = await _stocked_book(svc, isbn)
    await svc.send(_payload("stock_replenished", {"isbn": f"{isbn[:3]}-{isbn[3:]}", "quantity": 4}))
    restocked = await eventually(lambda: svc.feed.events("StockRestocked", book_id=book_id), timeout=WAIT)
    assert restocked == [{"book_id": str(book_id), "quantity": 4, "on_hand": 14, "version": 2}]
    assert await _on_hand(svc, book_id) == 14


async def test_stock_replenished_by_book_id_restocks_the_book(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    await svc.send(_payload("stock_replenished", {"book_id": str(book_id), "quantity": "2"}))
    await eventually(lambda: svc.feed.events("StockRestocked", book_id=book_id, on_hand=12), timeout=WAIT)


async def test_other_event_types_are_ignored_and_counted(inventory_running: RunningInventory) -> None:
    svc = inventory_running

    def ignored() -> float:
        return (
            REGISTRY.get_sample_value("bookshelf_inventory_supplier_payloads_total", {"outcome": "ignored"})
            or 0.0
        )

    before = ignored()
    message = _payload("new_book_available", {"title": "X", "author": "Y", "price": 3})
    envelope = await svc.send(message)
    await eventually(lambda: ignored() >= before + 1, timeout=WAIT)
    assert svc.dead_letters(SUPPLIER_BOOK_SUPPLY, envelope.message_id) == []


async def test_payload_without_quantity_is_dead_lettered_with_the_reason(
    inventory_running: RunningInventory,
) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    envelope = await svc.send(_payload("stock_replenished", {"book_id": str(book_id)}))
    letters = await eventually(
        lambda: svc.dead_letters(SUPPLIER_BOOK_SUPPLY, envelope.message_id), timeout=WAIT
    )
    assert "payload.quantity" in letters[0]["dlq.error_message"]
    assert letters[0]["dlq.attempts"] == "1"  # a bad payload is not retried
    assert await _on_hand(svc, book_id) == 10


async def test_bad_quantity_is_dead_lettered_naming_field_and_value(
    inventory_running: RunningInventory,
) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    envelope = await svc.send(_payload("stock_replenished", {"book_id": str(book_id), "quantity": -5}))
    letters = await eventually(
        lambda: svc.dead_letters(SUPPLIER_BOOK_SUPPLY, envelope.message_id), timeout=WAIT
    )
    assert "payload.quantity must be an integer from 1 to 100000, got -5" in letters[0]["dlq.error_message"]


async def test_unknown_isbn_is_retried_then_dead_lettered(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    isbn = _random_isbn13()
    envelope = await svc.send(_payload("stock_replenished", {"isbn": isbn, "quantity": 1}))
    letters = await eventually(
        lambda: svc.dead_letters(SUPPLIER_BOOK_SUPPLY, envelope.message_id), timeout=WAIT
    )
    assert isbn in letters[0]["dlq.error_message"]
    assert letters[0]["dlq.attempts"] == "3"  # the test service retries twice: BookAdded may be late
