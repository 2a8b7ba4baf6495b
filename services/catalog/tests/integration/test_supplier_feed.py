"""The BookSupply webhook and the supplier-feed consumer: signatures, storage, translation, DLQ."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from bookshelf_catalog.entrypoints.webhooks import sign
from bookshelf_infra.testing import eventually

from .conftest import SUPPLIER_SECRET, Catalog, ReadTopic, data_has, envelope_of, isbn13

PATH = "/webhooks/book-supply"


def signed(body: bytes, *, secret: str = SUPPLIER_SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    return {
        "X-BookSupply-Timestamp": timestamp,
        "X-BookSupply-Signature": sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


async def post(catalog: Catalog, payload: dict[str, Any]) -> str:
    body = orjson.dumps(payload)
    response = await catalog.http.post(PATH, content=body, headers=signed(body))
    assert response.status_code == 202, response.text
    message_id: str = response.json()["message_id"]
    return message_id


async def test_signature_timestamp_and_body_are_checked(catalog: Catalog) -> None:
    body = orjson.dumps({"event_type": "new_book_available"})
    cases = [
        {},
        signed(body, secret="wrong"),
        signed(body, at=int(time.time()) - 400),
        signed(body, at=int(time.time()) + 400),
        {**signed(body), "X-BookSupply-Signature": "sha256=" + "0" * 64},
    ]
    for headers in cases:
        response = await catalog.http.post(PATH, content=body, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"]
    tampered = await catalog.http.post(PATH, content=body + b" ", headers=signed(body))
    assert tampered.status_code == 401
    for not_json in (b"{nope", b"[1, 2]"):
        response = await catalog.http.post(PATH, content=not_json, headers=signed(not_json))
        assert response.status_code == 400
        assert response.json()["status"] == 400


async def test_new_book_flows_through_the_topic_into_the_catalog(
    catalog: Catalog, read_topic: ReadTopic
) -> None:
    isbn = isbn13()
    payload = {
        "event_type": "new_book_available",
        "title": "Solaris",
        "author": "Lem",
        "price": 12.5,
        "isbn": isbn,
    }
    message_id = await post(catalog, payload)
    reader = await read_topic("supplier.book-supply")
    [record] = await reader.wait_for(lambda r: envelope_of(r)["message_id"] == message_id)
    data = envelope_of(record)["data"]
    assert (data["event_type"], data["payload"]) == ("new_book_available", payload)
    assert record.key == data["payload_id"].encode()

    async def listed() -> dict[str, Any] | None:
        page = (await catalog.http.get("/books", params={"limit": 100})).json()
        return next((b for b in page["entries"] if b["isbn"] == isbn), None)

    book = await eventually(listed, timeout=30, message="the supplied book never reached the catalog")
    assert (book["title"], book["price"]) == ("Solaris", {"amount": "12.50", "currency": "USD"})
    books = await read_topic("catalog.books")
    [added] = await books.wait_for(data_has(isbn=isbn))
    assert envelope_of(added)["causation_id"] == message_id  # caused by the supplier message


async def test_repeated_payload_id_answers_the_first_message_id_without_a_second_effect(
    catalog: Catalog,
) -> None:
    payload = {"id": f"sup-{uuid.uuid4()}", "event_type": "price_dropped", "amount": 3}
    first = await post(catalog, payload)
    assert await post(catalog, payload) == first
    async with catalog.engine.connect() as conn:
        stored = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM outbox WHERE topic = 'supplier.book-supply' AND convert_from(value, 'UTF8') LIKE :id"
            ),
            {"id": f"%{payload['id']}%"},
        )
    assert stored == 1


async def test_replayed_request_without_payload_id_is_acknowledged_without_a_second_effect(
    catalog: Catalog,
) -> None:
    marker = f"no-id-{uuid.uuid4()}"
    body = orjson.dumps({"event_type": "price_dropped", "note": marker})
    captured = signed(body)
    first = await catalog.http.post(PATH, content=body, headers=captured)
    replay = await catalog.http.post(PATH, content=body, headers=captured)
    assert first.status_code == replay.status_code == 202
    assert replay.json()["message_id"] == first.json()["message_id"]
    # The supplier sending the same body again, freshly signed, is a new delivery.
    resent = await catalog.http.post(PATH, content=body, headers=signed(body, at=int(time.time()) - 100))
    assert resent.status_code == 202
    assert resent.json()["message_id"] != first.json()["message_id"]
    async with catalog.engine.connect() as conn:
        stored = await conn.scalar(
            sa.text("SELECT count(*) FROM supplier_payloads WHERE payload->>'note' = :marker"),
            {"marker": marker},
        )
    assert stored == 2


async def test_nul_character_in_a_payload_is_422_not_500(catalog: Catalog) -> None:
    body = orjson.dumps({"id": str(uuid.uuid4()), "event_type": "price_dropped", "note": "a\x00b"})
    response = await catalog.http.post(PATH, content=body, headers=signed(body))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_known_isbn_and_foreign_event_types_change_nothing(catalog: Catalog) -> None:
    isbn = isbn13()
    offer = {"event_type": "new_book_available", "title": "Once", "author": "A", "price": 3, "isbn": isbn}
    await post(catalog, offer)
    await post(catalog, offer | {"title": "Twice", "id": str(uuid.uuid4())})
    await post(catalog, {"event_type": "stock_replenished", "isbn": isbn, "quantity": 4})
    marker = f"mystery_{uuid.uuid4().hex[:8]}"
    await post(catalog, {"event_type": marker})

    async def ignored_counted() -> bool:
        metrics = (await catalog.http.get("/metrics")).text
        return f'catalog_supplier_payloads_ignored_total{{event_type="{marker}"}} 1.0' in metrics

    await eventually(ignored_counted, timeout=30, message="the unknown event type was never counted")
    async with catalog.engine.connect() as conn:
        titles = (
            await conn.execute(sa.text("SELECT title FROM books WHERE isbn = :i"), {"i": isbn})
        ).scalars()
        # Payload ids are the record keys, so two offers may be translated in either order: one wins.
        assert list(titles) in (["Once"], ["Twice"])


async def test_bad_payload_is_dead_lettered_at_once_with_error_headers(
    catalog: Catalog, read_topic: ReadTopic
) -> None:
    message_id = await post(catalog, {"event_type": "new_book_available", "author": "Nobody", "price": 10})
    dlq = await read_topic("supplier.book-supply.dlq")
    [record] = await dlq.wait_for(
        lambda r: r.value is not None and envelope_of(r)["message_id"] == message_id
    )
    headers = {name: value.decode() for name, value in record.headers}
    assert headers["dlq.original_topic"] == "supplier.book-supply"
    assert headers["dlq.consumer_group"] == "catalog.supplier-feed"
    assert headers["dlq.error_type"].endswith("PermanentError")
    assert "'title'" in headers["dlq.error_message"]
    assert headers["dlq.attempts"] == "1"
    assert "SupplierPayloadInvalid" in headers["dlq.stacktrace"]
    # The feed keeps going: a good payload after the bad one is still handled.
    isbn = isbn13()
    await post(
        catalog,
        {"event_type": "new_book_available", "title": "After", "author": "A", "price": 1, "isbn": isbn},
    )

    async def added() -> bool:
        async with catalog.engine.connect() as conn:
            return bool(await conn.scalar(sa.text("SELECT count(*) FROM books WHERE isbn = :i"), {"i": isbn}))

    await eventually(added, timeout=30, message="a payload after the dead letter was not handled")
