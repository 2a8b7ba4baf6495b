"""The anti-corruption layer: BookSupply payloads -> catalog commands."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from bookshelf_catalog.service_layer.commands import AddSuppliedBook
from bookshelf_catalog.service_layer.supplier import (
    SupplierPayloadInvalid,
    event_type_of,
    payload_id_of,
    translate,
)
from bookshelf_contracts import Currency

NEW = {"event_type": "new_book_available", "title": "Solaris", "author": "Lem", "price": 12.5}


def test_new_book_becomes_add_supplied_book_with_usd_default() -> None:
    command = translate(NEW | {"isbn": "9780306406157"})
    assert isinstance(command, AddSuppliedBook)
    price = command.fields["price"]
    assert (price.amount, price.currency) == (Decimal("12.50"), Currency.USD)
    assert command.fields["isbn"] == "9780306406157"


def test_currency_is_taken_when_given() -> None:
    command = translate(NEW | {"currency": "gbp", "price": 3})
    assert command is not None
    assert command.fields["price"].currency == Currency.GBP


@pytest.mark.parametrize("event_type", ["stock_replenished", "price_dropped", "whatever"])
def test_other_event_types_are_not_for_the_catalog(event_type: str) -> None:
    assert translate({"event_type": event_type, "quantity": 5}) is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x"}, "event_type"),
        ({"event_type": 7}, "event_type"),
        ({k: v for k, v in NEW.items() if k != "title"}, "title"),
        (NEW | {"author": "  "}, "author"),
        ({k: v for k, v in NEW.items() if k != "price"}, "price"),
        (NEW | {"price": "12.50"}, "price"),
        (NEW | {"price": -1}, "price"),
        (NEW | {"price": True}, "price"),
        (NEW | {"price": 1.234}, "price"),
        (NEW | {"currency": "JPY"}, "currency"),
        (NEW | {"isbn": 9780306406157}, "isbn"),
    ],
)
def test_missing_keys_and_bad_values_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(SupplierPayloadInvalid) as caught:
        translate(payload)
    assert caught.value.field == field
    assert repr(field) in str(caught.value)


def test_payload_ids() -> None:
    own = "0b8f3c1e-1111-4c2a-9a53-0c6f1a1e0001"
    assert payload_id_of({"payload_id": own}) == UUID(own)
    assert payload_id_of({"id": "sup-1"}) == payload_id_of({"id": "sup-1"}) != payload_id_of({"id": "sup-2"})
    assert payload_id_of({"id": 17}) is not None
    assert payload_id_of({"title": "x"}) is None
    assert event_type_of({}) == "<missing>"
