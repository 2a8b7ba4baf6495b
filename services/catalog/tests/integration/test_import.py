"""POST /books/import: CSV and JSON, rejected rows, the bulk lane, limits, and 50,000 rows."""

from __future__ import annotations

from .conftest import STAFF, Catalog, ReadTopic, data_has, envelope_of, isbn13

CSV = {"Content-Type": "text/csv"}


async def test_csv_import_reports_rejected_rows_and_uses_the_bulk_lane(
    catalog: Catalog, read_topic: ReadTopic
) -> None:
    taken = isbn13()
    assert (
        await catalog.http.post(
            "/books",
            json={"title": "T", "author": "A", "isbn": taken, "price": {"amount": "1.00", "currency": "USD"}},
            headers=STAFF,
        )
    ).status_code == 201
    good, repeated = isbn13(), isbn13()
    body = "\n".join(
        [
            "title,author,isbn,price,currency",
            f"Good One,Ann,{good},12.99,USD",
            f"No Price,Ann,{isbn13()},,USD",
            f"Repeated,Ann,{repeated},5,EUR",
            f"Repeated Again,Bob,{repeated},6,EUR",
            f"In Catalog,Cy,{taken},7,GBP",
            "No Isbn,Dee,,3.50,",
            ",Eve,,abc,XXX",
        ]
    ).encode()
    response = await catalog.http.post("/books/import", content=body, headers=STAFF | CSV)
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["accepted"] == 3
    rejected = {r["row"]: {e["field"] for e in r["errors"]} for r in result["rejected"]}
    assert rejected == {2: {"price"}, 4: {"isbn"}, 5: {"isbn"}, 7: {"title", "price"}}
    reader = await read_topic("catalog.books.bulk")
    [record] = await reader.wait_for(data_has(isbn=good))
    event = envelope_of(record)
    assert event["type"] == "BookAdded"
    assert (event["data"]["title"], event["data"]["price"]) == (
        "Good One",
        {"amount": "12.99", "currency": "USD"},
    )


async def test_json_import(catalog: Catalog, read_topic: ReadTopic) -> None:
    first, second = isbn13(), isbn13()
    books = [
        {
            "title": "J1",
            "author": "A",
            "isbn": first,
            "price": {"amount": "2.00", "currency": "EUR"},
            "genre": "SCIENCE",
        },
        {"title": "J2", "author": "B", "isbn": second, "price": 4.5, "currency": "GBP", "tags": ["x"]},
        {"title": "J3", "author": "C", "price": {"amount": "-1", "currency": "EUR"}},
        42,
    ]
    response = await catalog.http.post("/books/import", json=books, headers=STAFF)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2
    assert [r["row"] for r in response.json()["rejected"]] == [3, 4]
    reader = await read_topic("catalog.books.bulk")
    await reader.wait_for(lambda r: envelope_of(r)["data"].get("isbn") in (first, second), count=2)


async def test_import_rejects_bad_headers_types_and_sizes(catalog: Catalog) -> None:
    header = await catalog.http.post("/books/import", content=b"name,price\nx,1\n", headers=STAFF | CSV)
    assert header.status_code == 422
    assert {e["field"] for e in header.json()["errors"]} == {"header"}
    not_array = await catalog.http.post("/books/import", json={"title": "x"}, headers=STAFF)
    assert not_array.status_code == 422
    plain = await catalog.http.post(
        "/books/import", content=b"x", headers=STAFF | {"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    big = b"title,author,isbn,price,currency\n" + b"x" * (20 * 1024 * 1024)
    assert (await catalog.http.post("/books/import", content=big, headers=STAFF | CSV)).status_code == 413
