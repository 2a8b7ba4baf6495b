"""The running inventory service: HTTP -> outbox -> topics, catalog events and commands -> events, DLQ.

One service per module (group joins cost seconds); every test uses its own book and order ids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bookshelf_contracts import (
    INVENTORY_COMMANDS,
    INVENTORY_RESERVATIONS,
    INVENTORY_STOCK,
    BookAdded,
    BookDetailsUpdated,
    CommitStock,
    Envelope,
    Money,
    ReleaseStock,
    ReserveStock,
    StockLine,
)
from bookshelf_infra.testing import eventually

from .conftest import RunningInventory

ADMIN = {"Authorization": "Bearer dev-admin-token"}
WAIT = 30.0


def _book(
    book_id: uuid.UUID, *, title: str = "Dune", isbn: str | None = None, version: int = 1
) -> dict[str, Any]:
    price = Money(amount=Decimal("9.99"), currency="USD")
    return {
        "book_id": book_id,
        "title": title,
        "author": "Frank Herbert",
        "isbn": isbn,
        "price": price,
        "version": version,
    }


async def _stocked_book(
    svc: RunningInventory, *, isbn: str | None = None, lane: str = "primary"
) -> uuid.UUID:
    """A book announced on catalog.books, once inventory has created its record."""
    book_id = uuid.uuid4()
    await svc.send(BookAdded(**_book(book_id, isbn=isbn)), lane=lane)

    async def created() -> bool:
        return (await svc.http.get(f"/inventory/{book_id}")).status_code == 200

    await eventually(created, timeout=WAIT, message=f"inventory for {book_id}")
    return book_id


async def _inventory(svc: RunningInventory, book_id: uuid.UUID) -> dict[str, Any]:
    response = await svc.http.get(f"/inventory/{book_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _reserve(order_id: uuid.UUID, *lines: tuple[uuid.UUID, int]) -> ReserveStock:
    return ReserveStock(order_id=order_id, lines=[StockLine(book_id=b, quantity=q) for b, q in lines])


async def test_book_added_creates_a_record_with_initial_stock_and_publishes_its_level(
    inventory_running: RunningInventory,
) -> None:
    book_id = await _stocked_book(inventory_running)
    body = await _inventory(inventory_running, book_id)
    assert body == {
        "book_id": str(book_id),
        "title": "Dune",
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "version": 1,
    }
    feed = inventory_running.feed
    level = await eventually(lambda: feed.events("InventoryLevelChanged", book_id=book_id), timeout=WAIT)
    assert level == [{"book_id": str(book_id), "on_hand": 10, "reserved": 0, "available": 10, "version": 1}]


async def test_book_added_on_the_bulk_lane_creates_a_record(inventory_running: RunningInventory) -> None:
    book_id = await _stocked_book(inventory_running, lane="bulk")
    assert (await _inventory(inventory_running, book_id))["on_hand"] == 10


async def test_book_added_twice_is_a_no_op_and_details_update_the_title(
    inventory_running: RunningInventory,
) -> None:
    book_id = await _stocked_book(inventory_running)
    await inventory_running.send(BookAdded(**_book(book_id)))  # another delivery, another message id
    await inventory_running.send(BookDetailsUpdated(**_book(book_id, title="Dune Messiah", version=2)))

    async def renamed() -> bool:
        return (await _inventory(inventory_running, book_id))["title"] == "Dune Messiah"

    await eventually(renamed, timeout=WAIT)
    body = await _inventory(inventory_running, book_id)
    assert (body["on_hand"], body["version"]) == (10, 1)


async def test_restock_api_publishes_restocked_and_level(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    response = await svc.http.post(f"/inventory/{book_id}/restock", json={"quantity": 5}, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "book_id": str(book_id),
        "title": "Dune",
        "on_hand": 15,
        "reserved": 0,
        "available": 15,
        "version": 2,
    }
    restocked = await eventually(lambda: svc.feed.events("StockRestocked", book_id=book_id), timeout=WAIT)
    assert restocked == [{"book_id": str(book_id), "quantity": 5, "on_hand": 15, "version": 2}]
    await eventually(
        lambda: svc.feed.events("InventoryLevelChanged", book_id=book_id, version=2), timeout=WAIT
    )
    # inventory.stock is keyed by book_id: one book's changes stay in order on one partition.
    assert svc.feed.placements("StockRestocked", book_id=book_id) == [(INVENTORY_STOCK, str(book_id))]
    assert set(svc.feed.placements("InventoryLevelChanged", book_id=book_id)) == {
        (INVENTORY_STOCK, str(book_id))
    }


async def test_restock_with_an_idempotency_key_happens_once(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    headers = {**ADMIN, "Idempotency-Key": f"restock-{book_id}"}
    first = await svc.http.post(f"/inventory/{book_id}/restock", json={"quantity": 3}, headers=headers)
    again = await svc.http.post(f"/inventory/{book_id}/restock", json={"quantity": 3}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    assert (await _inventory(svc, book_id))["on_hand"] == 13


async def test_restock_errors(inventory_running: RunningInventory) -> None:
    client = inventory_running.http
    book_id = await _stocked_book(inventory_running)
    assert (await client.post(f"/inventory/{book_id}/restock", json={"quantity": 5})).status_code == 401
    unknown = await client.post(f"/inventory/{uuid.uuid4()}/restock", json={"quantity": 5}, headers=ADMIN)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    for bad in (0, 100_001, "5", None):
        response = await client.post(f"/inventory/{book_id}/restock", json={"quantity": bad}, headers=ADMIN)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "quantity"
    assert (await _inventory(inventory_running, book_id))["on_hand"] == 10


async def test_get_unknown_book_and_reservation_are_404(inventory_running: RunningInventory) -> None:
    client = inventory_running.http
    assert (await client.get(f"/inventory/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/reservations/{uuid.uuid4()}", headers=ADMIN)).status_code == 404
    # Reservations are STAFF: anonymous or a wrong token is a 401.
    assert (await client.get(f"/reservations/{uuid.uuid4()}")).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.get(f"/reservations/{uuid.uuid4()}", headers=wrong)).status_code == 401
    assert (await client.get("/inventory/not-a-uuid")).status_code == 422


async def test_reserve_command_publishes_reserved_and_levels(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    a, b = await _stocked_book(svc), await _stocked_book(svc)
    order_id = uuid.uuid4()
    await svc.send(_reserve(order_id, (a, 2), (b, 8)))
    reserved = await eventually(lambda: svc.feed.events("StockReserved", order_id=order_id), timeout=WAIT)
    assert sorted(reserved[0]["lines"], key=lambda line: line["quantity"]) == [
        {"book_id": str(a), "quantity": 2},
        {"book_id": str(b), "quantity": 8},
    ]
    await eventually(lambda: svc.feed.events("InventoryLevelChanged", book_id=b, available=2), timeout=WAIT)
    # inventory.reservations is keyed by order_id (the saga's co-partitioning), inventory.stock by book_id.
    assert svc.feed.placements("StockReserved", order_id=order_id) == [
        (INVENTORY_RESERVATIONS, str(order_id))
    ]
    assert set(svc.feed.placements("InventoryLevelChanged", book_id=b)) == {(INVENTORY_STOCK, str(b))}
    reservation = (await svc.http.get(f"/reservations/{order_id}", headers=ADMIN)).json()
    assert reservation["status"] == "RESERVED"
    assert len(reservation["lines"]) == 2
    # b now has 2 available (< 3): it is listed as low stock.
    low = await _all_pages(svc, "/inventory?low_stock=true")
    assert str(b) in {e["book_id"] for e in low}
    assert str(a) not in {e["book_id"] for e in low}


async def _all_pages(svc: RunningInventory, path: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = (await svc.http.get(f"{path}&limit=100&offset={offset}")).json()
        assert set(page) == {
            "entries",
            "total",
            "limit",
            "offset",
            "page",
            "total_pages",
            "has_next",
            "has_prev",
        }
        entries.extend(page["entries"])
        if not page["has_next"]:
            return entries
        offset += 100


async def test_duplicate_command_delivery_has_no_second_effect(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    order_id = uuid.uuid4()
    command = _reserve(order_id, (book_id, 3))
    envelope = await svc.send(command)
    await svc.send(command, envelope=envelope)  # the same message again (same message id)
    await svc.send(command)  # the same order again (new message id): answered, not reserved again
    await svc.send(CommitStock(order_id=order_id))  # same partition: handled after the repeats
    await eventually(lambda: svc.feed.events("StockCommitted", order_id=order_id), timeout=WAIT)
    body = await _inventory(svc, book_id)
    assert (body["on_hand"], body["reserved"], body["available"], body["version"]) == (7, 0, 7, 3)
    assert len(svc.feed.events("StockReserved", order_id=order_id)) == 2  # first answer + re-answer
    assert (await svc.http.get(f"/reservations/{order_id}", headers=ADMIN)).json()["status"] == "COMMITTED"


async def test_release_command_returns_the_stock(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    order_id = uuid.uuid4()
    await svc.send(_reserve(order_id, (book_id, 4)))
    await svc.send(ReleaseStock(order_id=order_id))
    released = await eventually(lambda: svc.feed.events("StockReleased", order_id=order_id), timeout=WAIT)
    assert released[0]["lines"] == [{"book_id": str(book_id), "quantity": 4}]
    await eventually(
        lambda: svc.feed.events("InventoryLevelChanged", book_id=book_id, version=3), timeout=WAIT
    )
    assert (await _inventory(svc, book_id))["available"] == 10
    assert (await svc.http.get(f"/reservations/{order_id}", headers=ADMIN)).json()["status"] == "RELEASED"


async def test_a_reserve_stock_replayed_after_the_release_is_refused(
    inventory_running: RunningInventory,
) -> None:
    svc = inventory_running
    book_id = await _stocked_book(svc)
    released_first, dead_lettered = uuid.uuid4(), uuid.uuid4()
    # An order reserved and released; another whose ReserveStock was dead-lettered before its release.
    await svc.send(_reserve(released_first, (book_id, 4)))
    await svc.send(ReleaseStock(order_id=released_first))
    await svc.send(ReleaseStock(order_id=dead_lettered))
    await eventually(lambda: svc.feed.events("StockReleased", order_id=released_first), timeout=WAIT)

    # Both ReserveStock replayed (as `bookshelf dlq replay` would: after the release, same partition).
    await svc.send(_reserve(released_first, (book_id, 4)))
    await svc.send(_reserve(dead_lettered, (book_id, 3)))

    for order_id in (released_first, dead_lettered):
        (refused,) = await eventually(
            lambda order_id=order_id: svc.feed.events("StockReservationFailed", order_id=order_id),
            timeout=WAIT,
        )
        assert (refused["reason"], refused["short_lines"]) == ("order closed", [])
    assert len(svc.feed.events("StockReserved", order_id=released_first)) == 1  # the first one only
    assert svc.feed.events("StockReserved", order_id=dead_lettered) == []
    body = await _inventory(svc, book_id)
    assert (body["on_hand"], body["reserved"], body["version"]) == (10, 0, 3)  # reserve + release only
    tombstone = (await svc.http.get(f"/reservations/{dead_lettered}", headers=ADMIN)).json()
    assert (tombstone["status"], tombstone["lines"]) == ("RELEASED", [])


async def test_refused_reservation_lists_short_lines(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    book_id, unknown = await _stocked_book(svc), uuid.uuid4()
    order_id = uuid.uuid4()
    await svc.send(_reserve(order_id, (book_id, 11), (unknown, 1)))
    failed = await eventually(
        lambda: svc.feed.events("StockReservationFailed", order_id=order_id), timeout=WAIT
    )
    short = {line["book_id"]: line for line in failed[0]["short_lines"]}
    assert short[str(book_id)] == {"book_id": str(book_id), "requested": 11, "available": 10}
    assert short[str(unknown)] == {"book_id": str(unknown), "requested": 1, "available": 0}
    response = await svc.http.get(f"/reservations/{order_id}", headers=ADMIN)
    assert response.status_code == 404
    assert "refused" in response.json()["detail"]
    assert (await _inventory(svc, book_id))["reserved"] == 0


async def test_invalid_command_lands_in_the_dlq_with_the_reason(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    order_id = uuid.uuid4()
    envelope = Envelope(
        message_id=uuid.uuid4(),
        type="ReserveStock",
        version=1,
        occurred_at=datetime.now(UTC),
        correlation_id="bad-command",
        producer="test",
        data={"order_id": str(order_id), "lines": []},
    )
    await svc.send_raw(
        svc.topic(INVENTORY_COMMANDS), envelope.to_json(), key=str(order_id), headers=envelope.kafka_headers()
    )
    letters = await eventually(
        lambda: svc.dead_letters(INVENTORY_COMMANDS, envelope.message_id), timeout=WAIT
    )
    assert "lines" in letters[0]["dlq.error_message"]
    assert letters[0]["dlq.error_type"].endswith("MessageValidationError")
    assert letters[0]["dlq.original_topic"] == svc.topic(INVENTORY_COMMANDS)
    assert letters[0]["dlq.attempts"] == "1"  # invalid input is not retried
    assert svc.feed.events("StockReserved", order_id=order_id) == []


async def test_commit_of_an_unknown_order_is_dead_lettered_at_once(
    inventory_running: RunningInventory,
) -> None:
    svc = inventory_running
    order_id = uuid.uuid4()
    envelope = await svc.send(CommitStock(order_id=order_id))
    letters = await eventually(
        lambda: svc.dead_letters(INVENTORY_COMMANDS, envelope.message_id), timeout=WAIT
    )
    assert f"order_id {order_id}" in letters[0]["dlq.error_message"]
    assert letters[0]["dlq.attempts"] == "1"
