"""Poison records on catalog.books: dead-lettered at once with the error headers; the next record flows."""

from __future__ import annotations

from uuid import uuid4

import orjson
from bookshelf_contracts import CATALOG_BOOKS, Envelope
from bookshelf_infra.testing.tap import Match, Record

from .conftest import StorefrontIT, book_added, header, ok


def _from(it: StorefrontIT, key: bytes) -> Match:
    group = it.settings.catalog_group

    def match(record: Record) -> bool:
        return (
            header(record, "dlq.consumer_group") == group
            and header(record, "dlq.original_key") == key.decode()
        )

    return match


async def test_unparsable_record_is_dead_lettered_and_the_next_one_applied(
    storefront_it: StorefrontIT,
) -> None:
    book = book_added(title="Behind the poison")
    key = str(book.book_id).encode()  # same key: same partition, right behind the poison record
    await storefront_it.send_raw(CATALOG_BOOKS, b"{not json", key=key)
    await storefront_it.send(book)
    await storefront_it.wait_for(
        f"/storefront/{book.book_id}", ok(lambda b: b["title"] == "Behind the poison")
    )
    letter = await storefront_it.catalog_dlq.first(_from(storefront_it, key))
    assert letter.value == b"{not json"
    assert header(letter, "dlq.original_topic") == CATALOG_BOOKS
    assert header(letter, "dlq.error_type").endswith("InvalidEnvelope")
    assert "not valid JSON" in header(letter, "dlq.error_message")
    assert "Traceback" in header(letter, "dlq.stacktrace")
    assert header(letter, "dlq.attempts") == "1"
    assert header(letter, "dlq.original_offset").isdigit()


async def test_schema_invalid_event_is_dead_lettered_at_once(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Valid one")
    bad = Envelope.wrap(book_added(book.book_id), producer="catalog", correlation_id=str(uuid4()))
    data = {**bad.data, "price": {"amount": "-1.00", "currency": "USD"}}
    value = orjson.dumps({**orjson.loads(bad.to_json()), "data": data})
    key = str(book.book_id).encode()
    await storefront_it.send_raw(CATALOG_BOOKS, value, key=key)
    await storefront_it.send(book)
    await storefront_it.wait_for(f"/storefront/{book.book_id}", ok(lambda b: b["title"] == "Valid one"))
    letter = await storefront_it.catalog_dlq.first(_from(storefront_it, key))
    assert header(letter, "dlq.error_type").endswith("MessageValidationError")
    assert "price" in header(letter, "dlq.error_message")
    assert header(letter, "dlq.attempts") == "1"
    assert header(letter, "dlq.stacktrace")
