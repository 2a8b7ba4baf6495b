"""StorefrontView and BookCatalog from scripted catalog and inventory events (real broker + PostgreSQL)."""

from __future__ import annotations

from uuid import uuid4

from bookshelf_contracts import BookDetailsUpdated, BookPriceUpdated
from bookshelf_contracts.testing import usd

from .conftest import StorefrontIT, book_added, ok, stock, token


async def test_a_book_appears_with_its_stock(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Dune", author="Frank Herbert", isbn="9780441013593", genre="FICTION")
    await storefront_it.send(book)
    await storefront_it.send(stock(book.book_id, available=7, version=1))
    answer = await storefront_it.wait_for(
        f"/storefront/{book.book_id}", ok(lambda body: body["available"] == 7)
    )
    body = answer.json()
    assert body == {
        "book_id": str(book.book_id),
        "title": "Dune",
        "author": "Frank Herbert",
        "isbn": "9780441013593",
        "genre": "FICTION",
        "price": {"amount": "10.00", "currency": "USD"},
        "available": 7,
        "in_stock": True,
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"].endswith("Z")
    catalog = (await storefront_it.http.get(f"/catalog/{book.book_id}")).json()
    assert catalog == {
        "book_id": str(book.book_id),
        "title": "Dune",
        "author": "Frank Herbert",
        "isbn": "9780441013593",
        "price": {"amount": "10.00", "currency": "USD"},
    }


async def test_stock_before_the_book_is_kept_hidden_then_merged(storefront_it: StorefrontIT) -> None:
    book_id = uuid4()
    author = token()
    await storefront_it.send(stock(book_id, available=3, version=2))
    await storefront_it.send(stock(book_id, available=9, version=1))  # older, arrives later
    marker = book_added(author=author)
    await storefront_it.send(stock(marker.book_id, available=1, version=1))
    await storefront_it.send(marker)
    await storefront_it.wait_for(f"/storefront/{marker.book_id}", ok(lambda b: b["available"] == 1))
    assert (await storefront_it.http.get(f"/storefront/{book_id}")).status_code == 404
    listed = (await storefront_it.http.get("/storefront", params={"author": author})).json()
    assert [e["book_id"] for e in listed["entries"]] == [str(marker.book_id)]

    await storefront_it.send(book_added(book_id, author=author, title="Late"))
    body = (await storefront_it.wait_for(f"/storefront/{book_id}", ok(lambda b: b["title"] == "Late"))).json()
    assert (body["available"], body["in_stock"]) == (3, True)


async def test_replays_and_duplicates_never_regress(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Old title")
    first = await storefront_it.send(book)
    details = BookDetailsUpdated(**{**book.model_dump(), "title": "New title", "version": 2})
    await storefront_it.send(details)
    price = BookPriceUpdated(book_id=book.book_id, old_price=usd("10.00"), new_price=usd("12.50"), version=3)
    await storefront_it.send(price)
    await storefront_it.send(stock(book.book_id, available=0, version=4))
    await storefront_it.wait_for(
        f"/storefront/{book.book_id}",
        ok(lambda b: b["price"]["amount"] == "12.50" and b["title"] == "New title" and b["available"] == 0),
    )
    # The same message again (inbox), and the old events again under new message ids (versions).
    await storefront_it.send(book, message_id=first.message_id)
    await storefront_it.send(book)
    await storefront_it.send(details)
    await storefront_it.send(stock(book.book_id, available=5, version=3))
    marker = book_added()
    await storefront_it.send(marker)  # same topic, applied after the replays of its partition or not: wait
    await storefront_it.send(stock(book.book_id, available=2, version=5))
    body = (
        await storefront_it.wait_for(f"/storefront/{book.book_id}", ok(lambda b: b["available"] == 2))
    ).json()
    assert (body["title"], body["price"]["amount"], body["in_stock"]) == ("New title", "12.50", True)
    catalog = (await storefront_it.http.get(f"/catalog/{book.book_id}")).json()
    assert (catalog["title"], catalog["price"]["amount"]) == ("New title", "12.50")


async def test_a_price_update_overtaking_its_book_does_not_hide_details(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Overtaken")
    price = BookPriceUpdated(book_id=book.book_id, old_price=usd("10.00"), new_price=usd("8.00"), version=2)
    await storefront_it.send(price)
    await storefront_it.send(book)
    body = (
        await storefront_it.wait_for(f"/storefront/{book.book_id}", ok(lambda b: b["title"] == "Overtaken"))
    ).json()
    assert body["price"]["amount"] == "8.00"


async def test_the_bulk_lane_is_read_too(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Imported")
    await storefront_it.send(book, lane="bulk")
    await storefront_it.send(stock(book.book_id, available=4, version=1), lane="bulk")
    await storefront_it.wait_for(f"/storefront/{book.book_id}", ok(lambda b: b["available"] == 4))
    await storefront_it.wait_for(f"/catalog/{book.book_id}", ok(lambda b: b["title"] == "Imported"))
