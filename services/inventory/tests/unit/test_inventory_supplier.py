"""docs/domain.md "Supplier feed": stock_replenished becomes a restock; bad payloads name field and value."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from bookshelf_inventory.domain.supplier import (
    InvalidSupplierPayload,
    SupplierRestock,
    normalize_isbn,
    translate,
)

BOOK = uuid.uuid4()


def test_restock_by_book_id() -> None:
    assert translate("stock_replenished", {"book_id": str(BOOK), "quantity": 7}) == SupplierRestock(
        7, book_id=BOOK
    )


def test_restock_by_isbn_is_normalised_to_isbn13() -> None:
    restock = translate("stock_replenished", {"isbn": "0-306-40615-2", "quantity": "3"})
    assert restock == SupplierRestock(3, isbn="9780306406157")


def test_book_id_wins_over_isbn() -> None:
    restock = translate("stock_replenished", {"book_id": str(BOOK), "isbn": "9780306406157", "quantity": 1})
    assert restock == SupplierRestock(1, book_id=BOOK)


@pytest.mark.parametrize("event_type", ["new_book_available", "price_changed", ""])
def test_other_event_types_are_ignored(event_type: str) -> None:
    assert translate(event_type, {"quantity": "nonsense"}) is None


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"book_id": str(BOOK)}, "payload.quantity"),
        (
            {"book_id": str(BOOK), "quantity": 0},
            "payload.quantity must be an integer from 1 to 100000, got 0",
        ),
        ({"book_id": str(BOOK), "quantity": 100_001}, "got 100001"),
        ({"book_id": str(BOOK), "quantity": "ten"}, "got 'ten'"),
        ({"book_id": str(BOOK), "quantity": 2.5}, "got 2.5"),
        ({"book_id": str(BOOK), "quantity": None}, "got None"),
        ({"quantity": 1}, "payload.book_id or payload.isbn"),
        ({"book_id": "not-a-uuid", "quantity": 1}, "payload.book_id must be a UUID, got 'not-a-uuid'"),
        ({"isbn": "9780306406158", "quantity": 1}, "payload.isbn must be an ISBN-10 or ISBN-13"),
        ({"isbn": 12345, "quantity": 1}, "got 12345"),
    ],
)
def test_bad_payloads_name_the_field_and_value(payload: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidSupplierPayload) as raised:
        translate("stock_replenished", payload)
    assert named in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "isbn13"),
    [
        ("9780306406157", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("080442957X", "9780804429573"),
    ],
)
def test_normalize_isbn(raw: str, isbn13: str) -> None:
    assert normalize_isbn(raw) == isbn13
