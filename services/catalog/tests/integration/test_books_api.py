"""HTTP flows of /books against PostgreSQL and the broker: auth, errors, idempotency, events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from .conftest import STAFF, Catalog, ReadTopic, data_has, envelope_of, isbn10_of, isbn13

PROBLEM = "application/problem+json"


def new_book(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Dune",
        "author": "Frank Herbert",
        "isbn": isbn13(),
        "price": {"amount": "9.99", "currency": "USD"},
        "genre": "FICTION",
        "tags": ["sf"],
        **overrides,
    }


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "correlation_id"} <= set(body)
    assert body["correlation_id"] == response.headers["x-correlation-id"]
    return body


async def test_add_get_and_publish_with_the_request_correlation_id(
    catalog: Catalog, read_topic: ReadTopic
) -> None:
    book = new_book()
    created = await catalog.http.post("/books", json=book, headers=STAFF | {"X-Correlation-ID": "it-corr-1"})
    assert created.status_code == 201, created.text
    assert created.headers["x-correlation-id"] == "it-corr-1"
    body = created.json()
    assert created.headers["location"] == f"/books/{body['book_id']}"
    assert (body["title"], body["isbn"], body["price"], body["version"]) == (
        "Dune",
        book["isbn"],
        {"amount": "9.99", "currency": "USD"},
        1,
    )
    fetched = await catalog.http.get(f"/books/{body['book_id']}")
    assert fetched.json() == body
    reader = await read_topic("catalog.books")
    [record] = await reader.wait_for(data_has(book_id=body["book_id"]))
    event = envelope_of(record)
    assert (event["type"], event["correlation_id"], event["producer"]) == (
        "BookAdded",
        "it-corr-1",
        "catalog",
    )
    assert record.key == body["book_id"].encode()


async def test_staff_routes_need_the_bearer_token(catalog: Catalog) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = await catalog.http.post("/books", json=new_book(), headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(await catalog.http.patch(f"/books/{uuid.uuid4()}", json={"title": "x"}), 401)
    assert_problem(await catalog.http.post("/books/import", json=[]), 401)


async def test_duplicate_isbn_is_409_even_as_isbn10(catalog: Catalog) -> None:
    isbn = isbn13()
    assert (await catalog.http.post("/books", json=new_book(isbn=isbn), headers=STAFF)).status_code == 201
    second = await catalog.http.post("/books", json=new_book(isbn=isbn10_of(isbn)), headers=STAFF)
    body = assert_problem(second, 409)
    assert isbn in body["detail"]
    assert body["errors"][0]["field"] == "isbn"


async def test_invalid_book_is_422_naming_each_field(catalog: Catalog) -> None:
    bad_amount = await catalog.http.post(
        "/books", json=new_book(price={"amount": "-1", "currency": "USD"}), headers=STAFF
    )
    assert [e["field"] for e in assert_problem(bad_amount, 422)["errors"]] == ["price.amount"]
    domain = await catalog.http.post(
        "/books",
        json=new_book(title=" ", price={"amount": "0", "currency": "USD"}, isbn="123"),
        headers=STAFF,
    )
    fields = {e["field"] for e in assert_problem(domain, 422)["errors"]}
    assert fields == {"title", "price.amount", "isbn"}
    extra = await catalog.http.post("/books", json=new_book(colour="red"), headers=STAFF)
    assert assert_problem(extra, 422)["errors"][0]["field"] == "colour"


async def test_unknown_book_is_404_and_bad_id_is_422(catalog: Catalog) -> None:
    assert_problem(await catalog.http.get(f"/books/{uuid.uuid4()}"), 404)
    assert_problem(
        await catalog.http.patch(f"/books/{uuid.uuid4()}", json={"title": "x"}, headers=STAFF), 404
    )
    assert assert_problem(await catalog.http.get("/books/not-a-uuid"), 422)["errors"][0]["field"] == "book_id"


async def test_list_is_paginated(catalog: Catalog) -> None:
    for _ in range(3):
        assert (await catalog.http.post("/books", json=new_book(), headers=STAFF)).status_code == 201
    page = (await catalog.http.get("/books", params={"limit": 2, "offset": 1})).json()
    assert set(page) == {"entries", "total", "limit", "offset", "page", "total_pages", "has_next", "has_prev"}
    assert (page["limit"], page["offset"], page["page"], len(page["entries"])) == (2, 1, 1, 2)
    assert page["total"] >= 3
    assert page["has_prev"] is True
    assert_problem(await catalog.http.get("/books", params={"limit": 101}), 422)


async def test_idempotency_key_replays_the_first_answer(catalog: Catalog) -> None:
    book = new_book()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await catalog.http.post("/books", json=book, headers=STAFF | key)
    again = await catalog.http.post("/books", json=book, headers=STAFF | key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    async with catalog.engine.connect() as conn:
        count = await conn.scalar(sa.text("SELECT count(*) FROM books WHERE isbn = :i"), {"i": book["isbn"]})
        outbox = await conn.scalar(
            sa.text("SELECT count(*) FROM outbox WHERE key = :k"), {"k": first.json()["book_id"]}
        )
    assert (count, outbox) == (1, 1)
    other = await catalog.http.post("/books", json=new_book(), headers=STAFF | key)
    assert "Idempotency-Key" in assert_problem(other, 409)["detail"]


async def test_patch_emits_price_and_details_events(catalog: Catalog, read_topic: ReadTopic) -> None:
    book_id = (await catalog.http.post("/books", json=new_book(), headers=STAFF)).json()["book_id"]
    price = await catalog.http.patch(
        f"/books/{book_id}", json={"price": {"amount": "12.50", "currency": "USD"}}, headers=STAFF
    )
    assert (price.status_code, price.json()["version"]) == (200, 2)
    details = await catalog.http.patch(f"/books/{book_id}", json={"title": "Dune (2nd ed.)"}, headers=STAFF)
    assert (details.json()["title"], details.json()["version"]) == ("Dune (2nd ed.)", 3)
    both = await catalog.http.patch(
        f"/books/{book_id}",
        json={"price": {"amount": "8.00", "currency": "EUR"}, "in_print": False, "description": None},
        headers=STAFF,
    )
    assert both.json()["version"] == 5
    bad = await catalog.http.patch(
        f"/books/{book_id}", json={"page_count": 0, "isbn": isbn13()}, headers=STAFF
    )
    assert {e["field"] for e in assert_problem(bad, 422)["errors"]} == {"isbn"}
    reader = await read_topic("catalog.books")
    records = await reader.wait_for(data_has(book_id=book_id), count=5)
    events = [(envelope_of(r)["type"], envelope_of(r)["data"]["version"]) for r in records]
    assert events == [
        ("BookAdded", 1),
        ("BookPriceUpdated", 2),
        ("BookDetailsUpdated", 3),
        ("BookPriceUpdated", 4),
        ("BookDetailsUpdated", 5),
    ]
    price_event = envelope_of(records[1])["data"]
    assert (price_event["old_price"]["amount"], price_event["new_price"]["amount"]) == ("9.99", "12.50")


async def test_body_over_1_mib_is_413(catalog: Catalog) -> None:
    response = await catalog.http.post(
        "/books",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers=STAFF | {"Content-Type": "application/json"},
    )
    assert_problem(response, 413)
