"""Book projections as batch handlers: runs of catalog/inventory events written set-based, in one call.

The events of each test are produced together (one producer batch, one partition), so the live
consumer receives them in one fetch and hands them to its BatchHandler in one call; the last test
calls the batch handler directly, so one call is certain.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_STOCK,
    BookDetailsUpdated,
    BookPriceUpdated,
    Envelope,
    Message,
)
from bookshelf_contracts.testing import usd
from bookshelf_messaging import BatchHandler
from bookshelf_storefront.entrypoints.consumers import live_handlers
from sqlalchemy.ext.asyncio import async_sessionmaker

from .batching import send_together
from .conftest import StorefrontIT, Twin, book_added, header, ok, stock


def details(book_id: UUID, title: str, version: int, amount: str = "10.00") -> BookDetailsUpdated:
    return BookDetailsUpdated(
        book_id=book_id, title=title, author="An Author", price=usd(amount), version=version
    )


def price(book_id: UUID, amount: str, version: int) -> BookPriceUpdated:
    return BookPriceUpdated(book_id=book_id, old_price=usd("10.00"), new_price=usd(amount), version=version)


async def report_row(it: StorefrontIT, book_id: UUID) -> Any:
    async with it.components.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT title, price_amount, price_change_versions FROM book_report WHERE book_id = :id"),
            {"id": book_id},
        )
        return result.one()


async def test_several_events_for_one_book_in_a_batch_end_in_the_last_state(
    storefront_it: StorefrontIT,
) -> None:
    book = book_added(title="First")
    b = book.book_id
    catalog = [book, price(b, "11.00", 2), details(b, "Third", 3, "11.00"), price(b, "14.50", 4)]
    await send_together(storefront_it, catalog)
    await send_together(storefront_it, [stock(b, 1, 1), stock(b, 0, 2), stock(b, 6, 3)])
    body = (
        await storefront_it.wait_for(
            f"/storefront/{b}", ok(lambda x: x["price"]["amount"] == "14.50" and x["available"] == 6)
        )
    ).json()
    assert (body["title"], body["in_stock"]) == ("Third", True)
    listed = (await storefront_it.http.get(f"/catalog/{b}")).json()
    assert (listed["title"], listed["price"]["amount"]) == ("Third", "14.50")
    report = await report_row(storefront_it, b)
    assert (report.title, str(report.price_amount), report.price_change_versions) == (
        "Third",
        "14.50",
        [2, 4],
    )


async def test_stale_and_duplicate_events_inside_a_batch_change_nothing(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Original")
    b = book.book_id
    catalog = [
        book,
        details(b, "Newest", 3, "12.00"),
        details(b, "Stale", 2, "99.00"),  # older version after a newer one
        price(b, "13.00", 4),
        price(b, "13.00", 4),  # republished under a new message id: counted once
        price(b, "50.00", 2),  # stale price
        book,  # redelivery of the first message (same message id, see ids)
    ]
    first_id = uuid4()
    await send_together(storefront_it, catalog, ids={0: first_id, 6: first_id})
    await send_together(storefront_it, [stock(b, 4, 2), stock(b, 9, 1), stock(b, 4, 2)])
    await storefront_it.wait_for(
        f"/storefront/{b}", ok(lambda x: x["price"]["amount"] == "13.00" and x["available"] == 4)
    )
    # A marker behind everything on both partitions: once it shows, every event above was handled.
    marker = book_added()
    await send_together(storefront_it, [marker])
    await send_together(storefront_it, [stock(marker.book_id, 1, 1)])
    await storefront_it.wait_for(f"/storefront/{marker.book_id}", ok(lambda x: x["available"] == 1))
    body = (await storefront_it.http.get(f"/storefront/{b}")).json()
    assert (body["title"], body["price"]["amount"], body["available"]) == ("Newest", "13.00", 4)
    report = await report_row(storefront_it, b)
    # The late price change v2 does not move the price, but it happened: the report counts it once.
    assert (report.title, str(report.price_amount), report.price_change_versions) == (
        "Newest",
        "13.00",
        [2, 4],
    )


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone(
    storefront_it: StorefrontIT, twin: Twin
) -> None:
    topic, dead_letters = await twin(CATALOG_BOOKS, ("storefront", "catalog", "reports"))
    before, after = book_added(title="Before poison"), book_added(title="After poison")
    poison = book_added(title="Poison \x00 title")  # valid contract, but PostgreSQL refuses NUL in text
    await send_together(storefront_it, [before, poison, after], topic=topic)
    for book in (before, after):
        await storefront_it.wait_for(
            f"/storefront/{book.book_id}", ok(lambda x: x["title"].endswith("poison"))
        )
    letter = await dead_letters.first(lambda r: header(r, "dlq.original_key") == str(poison.book_id))
    assert header(letter, "dlq.original_topic") == topic
    # The batch failed, then the message ran alone once: a data error (NUL, SQLSTATE class 22) is
    # dead-lettered at once instead of being retried.
    assert int(header(letter, "dlq.attempts")) == 1
    assert "0x00" in header(letter, "dlq.error_message")
    assert (await storefront_it.http.get(f"/storefront/{poison.book_id}")).status_code == 404
    assert len(dead_letters.records) == 1  # only the poison: the others of its batch were applied


async def test_one_batch_call_applies_its_events_in_order_of_version(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Direct")
    b = book.book_id
    events: list[Message] = [
        details(b, "Direct v3", 3, "20.00"),
        book,
        price(b, "21.00", 4),
        details(b, "Direct v2", 2, "19.00"),
        price(b, "21.00", 4),
    ]
    catalog = live_handlers(CATALOG_BOOKS, ("storefront", "catalog", "reports"))
    inventory = live_handlers(INVENTORY_STOCK, ("storefront",))
    handler, stock_handler = catalog["BookAdded"], inventory["InventoryLevelChanged"]
    assert isinstance(handler, BatchHandler)
    assert handler is catalog["BookPriceUpdated"]  # one handler: a run of mixed types is one call
    assert isinstance(stock_handler, BatchHandler)
    wrap = [(m, Envelope.wrap(m, producer="it", correlation_id="c")) for m in events]
    levels = [stock(b, 2, 3), stock(b, 8, 1), stock(b, 2, 3)]
    sessions = async_sessionmaker(storefront_it.components.engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        await handler.fn(wrap, session)
        await stock_handler.fn(
            [(m, Envelope.wrap(m, producer="it", correlation_id="c")) for m in levels], session
        )
    body = (await storefront_it.http.get(f"/storefront/{b}")).json()
    assert (body["title"], body["price"]["amount"], body["available"]) == ("Direct v3", "21.00", 2)
    report = await report_row(storefront_it, b)
    assert (report.title, str(report.price_amount), report.price_change_versions) == (
        "Direct v3",
        "21.00",
        [4],
    )
