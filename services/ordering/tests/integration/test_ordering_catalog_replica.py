"""The catalog replica: ``catalog.books`` (both lanes) -> ``catalog_books`` -> orders priced from it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlalchemy as sa
from bookshelf_contracts import (
    CATALOG_BOOKS,
    BookAdded,
    BookDetailsUpdated,
    BookPriceUpdated,
    bulk,
)
from bookshelf_contracts.testing import usd
from bookshelf_infra.testing import eventually
from bookshelf_ordering.adapters.repository import SqlCatalogReplica

from .conftest import OrderingHarness


def book_added(book_id: uuid.UUID, title: str = "Dune", amount: str = "12.99") -> BookAdded:
    return BookAdded(book_id=book_id, title=title, author="Frank Herbert", price=usd(amount), version=1)


def order_body(book_id: uuid.UUID) -> dict[str, Any]:
    return {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipping_address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345"},
        "items": [{"book_id": str(book_id), "quantity": 2}],
    }


async def placed_when_known(ordering: OrderingHarness, book_id: uuid.UUID) -> dict[str, Any]:
    """Poll POST /orders until the replica knows the book (422 has no effect, so retrying is safe)."""

    async def attempt() -> dict[str, Any] | None:
        response = await ordering.http.post("/orders", json=order_body(book_id))
        return response.json() if response.status_code == 201 else None

    result: dict[str, Any] = await eventually(attempt, timeout=30, interval=0.1)
    return result


async def replica_row(ordering: OrderingHarness, book_id: uuid.UUID) -> Any:
    async with ordering.session() as session:
        result = await session.execute(
            sa.text("SELECT * FROM catalog_books WHERE book_id = :id"), {"id": book_id}
        )
        return result.mappings().first()


async def test_book_added_on_catalog_books_makes_the_book_orderable(ordering: OrderingHarness) -> None:
    book_id = uuid.uuid4()
    assert (await ordering.http.post("/orders", json=order_body(book_id))).status_code == 422
    await ordering.send(CATALOG_BOOKS, book_added(book_id, "Dune", "12.99"), key=str(book_id))
    order = await placed_when_known(ordering, book_id)
    assert order["items"][0]["title"] == "Dune"
    assert order["total"] == {"amount": "25.98", "currency": "USD"}


async def test_book_added_on_the_bulk_lane_is_read_too(ordering: OrderingHarness) -> None:
    book_id = uuid.uuid4()
    await ordering.send(bulk(CATALOG_BOOKS), book_added(book_id, "Emma", "5.50"), key=str(book_id))
    order = await placed_when_known(ordering, book_id)
    assert order["items"][0]["title"] == "Emma"


async def test_price_and_details_updates_reach_new_orders(ordering: OrderingHarness) -> None:
    book_id = uuid.uuid4()
    await ordering.send(CATALOG_BOOKS, book_added(book_id), key=str(book_id))
    await ordering.send(
        CATALOG_BOOKS,
        BookPriceUpdated(book_id=book_id, old_price=usd("12.99"), new_price=usd("15.00"), version=2),
        key=str(book_id),
    )
    details = BookDetailsUpdated(
        book_id=book_id, title="Dune (Deluxe)", author="Frank Herbert", price=usd("15.00"), version=3
    )
    await ordering.send(CATALOG_BOOKS, details, key=str(book_id))

    async def updated() -> bool:
        row = await replica_row(ordering, book_id)
        return row is not None and row["title_version"] == 3

    await eventually(updated, timeout=30)
    order = await placed_when_known(ordering, book_id)
    assert order["items"][0]["title"] == "Dune (Deluxe)"
    assert order["items"][0]["unit_price"] == {"amount": "15.00", "currency": "USD"}


async def test_old_events_never_regress_the_replica(ordering: OrderingHarness) -> None:
    book_id = uuid.uuid4()
    async with ordering.session() as session, session.begin():
        replica = SqlCatalogReplica(session)
        await replica.apply_price(book_id, usd("20.00"), 4)  # a price change before its BookAdded (bulk lag)
        assert await replica.get_many([book_id]) == {}  # no title yet: not orderable
        await replica.apply_book(book_id, "Dune", usd("12.99"), 1)  # late BookAdded: title only
        await replica.apply_book(book_id, "Dune II", usd("18.00"), 3)  # details v3: title, price stays v4
        await replica.apply_book(book_id, "Dune", usd("12.99"), 1)  # replayed BookAdded
        await replica.apply_price(book_id, usd("16.00"), 2)  # replayed old price
        (entry,) = (await replica.get_many([book_id])).values()
    assert (entry.title, str(entry.price)) == ("Dune II", "20.00 USD")
    row = await replica_row(ordering, book_id)
    assert (row["title_version"], row["price_version"]) == (3, 4)


async def test_concurrent_cancels_serialize_on_the_row_lock(ordering: OrderingHarness) -> None:
    book = await ordering.seed_book()
    order_id = (await ordering.http.post("/orders", json=order_body(book))).json()["order_id"]
    responses = await asyncio.gather(*(ordering.http.post(f"/orders/{order_id}/cancel") for _ in range(8)))
    assert {r.status_code for r in responses} == {202}
    async with ordering.session() as session:
        count = await session.scalar(
            sa.text(
                "SELECT count(*) FROM outbox WHERE key = :key AND convert_from(value, 'UTF8') LIKE '%OrderCancellationRequested%'"
            ),
            {"key": order_id},
        )
    assert count == 1
    history = (await ordering.order(order_id))["history"]
    assert [(h["status"], h["reason"]) for h in history] == [
        ("PENDING", "order placed"),
        ("PENDING", "cancellation requested (customer request)"),
    ]
