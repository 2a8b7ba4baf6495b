"""docs/reference/http.md: /storefront filters, sort keys, paging, 422s; /catalog, /reports/books, 404s."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from bookshelf_contracts.testing import usd

from .conftest import StorefrontIT, book_added, ok, stock, token

ENVELOPE = {"entries", "total", "limit", "offset", "page", "total_pages", "has_next", "has_prev"}


@pytest.fixture(scope="module")
async def shelf(storefront_it: StorefrontIT) -> dict[str, Any]:
    """Five books sharing a unique token in title and author; nicknames -> book ids."""
    tok = token()
    rows = {
        "alpha": (f"Alpha {tok}", f"Ann {tok}", "FICTION", "5.00", 3),
        "bravo": (f"Bravo {tok}", f"ANN {tok}", "SCIENCE", "15.00", 0),
        "charlie": (f"Charlie {tok}", f"Bob {tok}sen", "FICTION", "25.00", 10),
        "delta": (f"Delta 100% {tok}", f"Cid {tok}", "HISTORY", "8.50", 1),
        "echo": (f"Echo river {tok}", f"Dee {tok}", "FICTION", "30.00", 0),
    }
    ids = {}
    for nick, (title, author, genre, price, available) in rows.items():
        book = book_added(title=title, author=author, genre=genre, price=usd(price))
        await storefront_it.send(book)
        await storefront_it.send(stock(book.book_id, available=available, version=1))
        ids[nick] = str(book.book_id)
    await storefront_it.wait_for(
        "/storefront",
        ok(lambda b: b["total"] == 5 and sum(e["available"] for e in b["entries"]) == 14),
        q=tok,
    )
    return {"tok": tok, "ids": ids, "names": {v: k for k, v in ids.items()}}


async def names(it: StorefrontIT, shelf: dict[str, Any], **params: Any) -> list[str]:
    """Nicknames of the entries of GET /storefront with ``params``."""
    answer = await it.http.get("/storefront", params=params)
    assert answer.status_code == 200, answer.text
    return [shelf["names"][e["book_id"]] for e in answer.json()["entries"]]


async def test_filters(storefront_it: StorefrontIT, shelf: dict[str, Any]) -> None:
    tok = shelf["tok"]
    assert await names(storefront_it, shelf, author=f"ann {tok}") == ["alpha", "bravo"]
    assert await names(storefront_it, shelf, author=f"  ANN {tok.upper()} ") == ["alpha", "bravo"]
    assert await names(storefront_it, shelf, author_contains=f"{tok}SEN") == ["charlie"]
    assert await names(storefront_it, shelf, q=f"river {tok}") == ["echo"]
    assert await names(storefront_it, shelf, q=tok, genre="FICTION") == ["alpha", "charlie", "echo"]
    assert await names(storefront_it, shelf, q=tok, in_stock="true") == ["alpha", "charlie", "delta"]
    assert await names(storefront_it, shelf, q=tok, in_stock="false") == ["bravo", "echo"]
    assert await names(storefront_it, shelf, q=tok, min_price="8.50", max_price="25") == [
        "bravo",
        "charlie",
        "delta",
    ]
    assert await names(storefront_it, shelf, q=f"100% {tok}") == ["delta"]  # % matched literally
    assert await names(storefront_it, shelf, q=f"Delta_100 {tok}") == []  # _ matched literally
    assert await names(storefront_it, shelf, author=f"ann {tok}", q="ph") == ["alpha"]  # short term: no index
    assert await names(storefront_it, shelf, q=tok, author_contains="  ") == await names(
        storefront_it, shelf, q=tok
    )


async def test_sort_keys(storefront_it: StorefrontIT, shelf: dict[str, Any]) -> None:
    tok = shelf["tok"]
    by_price = ["alpha", "delta", "bravo", "charlie", "echo"]
    assert await names(storefront_it, shelf, q=tok, sort="price") == by_price
    assert await names(storefront_it, shelf, q=tok, sort="-price") == by_price[::-1]
    assert await names(storefront_it, shelf, q=tok) == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert await names(storefront_it, shelf, q=tok, sort="-title") == [
        "echo",
        "delta",
        "charlie",
        "bravo",
        "alpha",
    ]
    available = await names(storefront_it, shelf, q=tok, sort="-available")
    assert available[:3] == ["charlie", "alpha", "delta"]
    assert set(available[3:]) == {"bravo", "echo"}
    authors = await names(storefront_it, shelf, q=tok, sort="author", in_stock="true")
    assert authors == ["alpha", "charlie", "delta"]
    assert len(await names(storefront_it, shelf, q=tok, sort="-updated_at")) == 5


async def test_pagination_envelope(storefront_it: StorefrontIT, shelf: dict[str, Any]) -> None:
    tok = shelf["tok"]
    page = (await storefront_it.http.get("/storefront", params={"q": tok, "limit": 2, "offset": 2})).json()
    assert set(page) == ENVELOPE
    assert [shelf["names"][e["book_id"]] for e in page["entries"]] == ["charlie", "delta"]
    assert (page["total"], page["page"], page["total_pages"], page["has_next"], page["has_prev"]) == (
        5,
        2,
        3,
        True,
        True,
    )
    last = (await storefront_it.http.get("/storefront", params={"q": tok, "limit": 2, "offset": 4})).json()
    assert (len(last["entries"]), last["total"], last["has_next"]) == (1, 5, False)
    past = (await storefront_it.http.get("/storefront", params={"q": tok, "limit": 2, "offset": 10})).json()
    assert (past["entries"], past["total"], past["has_prev"]) == ([], 5, True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "bogus"}, "sort"),
        ({"sort": "-"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"genre": "POETRY"}, "genre"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "10", "max_price": "5"}, "min_price"),
        ({"in_stock": "maybe"}, "in_stock"),
    ],
)
async def test_invalid_input_is_422_naming_the_field(
    storefront_it: StorefrontIT, params: dict[str, Any], field: str
) -> None:
    answer = await storefront_it.http.get("/storefront", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert field in [e["field"] for e in body["errors"]]
    assert body["correlation_id"]


async def test_unknown_sort_names_the_allowed_keys(storefront_it: StorefrontIT) -> None:
    body = (await storefront_it.http.get("/storefront", params={"sort": "rating"})).json()
    message = body["errors"][0]["message"]
    assert "'rating'" in message
    for key in ("title", "author", "price", "available", "updated_at"):
        assert key in message
    reports = await storefront_it.http.get("/reports/books", params={"sort": "title,price"})
    assert reports.status_code == 422
    assert "units_sold" in reports.json()["errors"][0]["message"]


async def test_unknown_books_are_404(storefront_it: StorefrontIT) -> None:
    for path in (f"/storefront/{uuid4()}", f"/catalog/{uuid4()}"):
        answer = await storefront_it.http.get(path)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await storefront_it.http.get("/storefront/not-a-uuid")).status_code == 422


async def test_catalog_and_reports_lists(storefront_it: StorefrontIT, shelf: dict[str, Any]) -> None:
    catalog = (await storefront_it.http.get("/catalog", params={"limit": 100})).json()
    assert set(catalog) == ENVELOPE
    assert catalog["total"] >= 5
    assert set(catalog["entries"][0]) == {"book_id", "title", "author", "isbn", "price"}
    reports = (await storefront_it.http.get("/reports/books", params={"limit": 5})).json()
    assert set(reports) == ENVELOPE
    sold = [entry["units_sold"] for entry in reports["entries"]]
    assert sold == sorted(sold, reverse=True)
    ascending = (await storefront_it.http.get("/reports/books", params={"sort": "price_changes"})).json()
    changes = [entry["price_changes"] for entry in ascending["entries"]]
    assert changes == sorted(changes)


async def test_totals_stay_exact_as_books_arrive(storefront_it: StorefrontIT) -> None:
    async def counted(where: str) -> int:
        async with storefront_it.components.engine.connect() as conn:
            return int(await conn.scalar(sa.text(f"SELECT count(*) FROM storefront_view WHERE {where}")))

    async def api_total(**params: Any) -> int:
        return int((await storefront_it.http.get("/storefront", params=params)).json()["total"])

    for _ in range(2):
        assert await api_total() == await counted("details_version > 0")
        assert await api_total(in_stock="true") == await counted("details_version > 0 AND in_stock")
        assert await api_total(in_stock="false") == await counted("details_version > 0 AND NOT in_stock")
        book = book_added(title=f"Counted {token()}")
        await storefront_it.send(book)
        await storefront_it.send(stock(book.book_id, available=1, version=1))
        await storefront_it.wait_for(f"/storefront/{book.book_id}", ok(lambda b: b["available"] == 1))


async def test_deep_pages_match_shallow_ones(storefront_it: StorefrontIT) -> None:
    tok = token()
    async with storefront_it.components.engine.begin() as conn:  # 105 rows straight into the view
        await conn.execute(
            sa.text(
                "INSERT INTO storefront_view (book_id, title, author, price_amount, price_currency, available,"
                " updated_at, details_version, price_version, stock_version)"
                " SELECT gen_random_uuid(), 'Deep ' || lpad(n::text, 3, '0'), :author, n, 'USD', n % 3,"
                " now(), 1, 1, 1 FROM generate_series(1, 105) AS n"
            ),
            {"author": f"Deep {tok}"},
        )
    for sort in ("title", "-price", "available"):
        params = {"author": f"deep {tok}", "sort": sort}
        shallow = (
            await storefront_it.http.get("/storefront", params={**params, "limit": 7, "offset": 98})
        ).json()
        deep = (
            await storefront_it.http.get("/storefront", params={**params, "limit": 5, "offset": 100})
        ).json()
        assert deep["entries"] == shallow["entries"][2:]
        assert (deep["total"], len(deep["entries"]), deep["has_next"]) == (105, 5, False)
