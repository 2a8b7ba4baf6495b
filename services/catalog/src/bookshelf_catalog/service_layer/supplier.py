"""The anti-corruption layer for BookSupply payloads: their words in, catalog commands out.

| event_type           | becomes                                                          |
|----------------------|------------------------------------------------------------------|
| new_book_available   | AddSuppliedBook (title, author, price number -> Money, isbn)      |
| stock_replenished    | nothing here (inventory translates it)                           |
| anything else        | nothing (acknowledged and counted)                               |

A payload missing keys or with bad values raises ``SupplierPayloadInvalid`` naming the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from bookshelf_catalog.domain.exceptions import InvalidBook
from bookshelf_catalog.service_layer.commands import AddSuppliedBook
from bookshelf_catalog.service_layer.importing import InvalidMoney, parse_money

NEW_BOOK_AVAILABLE = "new_book_available"
STOCK_REPLENISHED = "stock_replenished"
MISSING_EVENT_TYPE = "<missing>"
# Payload ids that are not UUIDs map to a stable UUID, so a repeated id is still recognised.
PAYLOAD_ID_NAMESPACE = uuid.UUID("6f1c2a34-5b7d-4e8f-9a0b-1c2d3e4f5a6b")


class SupplierPayloadInvalid(ValueError):
    """A supplier payload that cannot be translated; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"supplier payload field {field!r}: {message}")
        self.field = field


def payload_id_of(payload: Mapping[str, Any]) -> uuid.UUID | None:
    """The payload's own id (``payload_id`` or ``id``) as a UUID, or None when it has none."""
    for key in ("payload_id", "id"):
        value = payload.get(key)
        if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
            continue
        text = str(value).strip()
        try:
            return uuid.UUID(text)
        except ValueError:
            return uuid.uuid5(PAYLOAD_ID_NAMESPACE, text)
    return None


def delivery_payload_id(delivery_id: str | None) -> uuid.UUID | None:
    """A stable id for a payload without its own, from its delivery's verified signature.

    The signature covers the timestamp and the body, so only a replay of the very same delivery (inside
    the timestamp window) maps to the same id; a payload re-sent later with a new timestamp does not.
    """
    if not delivery_id:
        return None
    return uuid.uuid5(PAYLOAD_ID_NAMESPACE, f"delivery:{delivery_id}")


def event_type_of(payload: Mapping[str, Any]) -> str:
    """The payload's ``event_type`` for storage and routing (``<missing>`` when absent)."""
    value = payload.get("event_type")
    if isinstance(value, str) and value.strip():
        return value.strip()[:200]
    return MISSING_EVENT_TYPE


def _required_text(payload: Mapping[str, Any], field: str) -> str:
    value = payload.get(field)
    if value is None:
        raise SupplierPayloadInvalid(field, "is missing")
    if not isinstance(value, str) or not value.strip():
        raise SupplierPayloadInvalid(field, f"must be a non-empty string, got {value!r}")
    return value


def translate(payload: Mapping[str, Any]) -> AddSuppliedBook | None:
    """The catalog command of a payload, or None when the catalog has nothing to do with it."""
    if "event_type" not in payload:
        raise SupplierPayloadInvalid("event_type", "is missing")
    event_type = payload["event_type"]
    if not isinstance(event_type, str) or not event_type.strip():
        raise SupplierPayloadInvalid("event_type", f"must be a non-empty string, got {event_type!r}")
    if event_type != NEW_BOOK_AVAILABLE:
        return None
    fields: dict[str, Any] = {
        "title": _required_text(payload, "title"),
        "author": _required_text(payload, "author"),
    }
    if "price" not in payload:
        raise SupplierPayloadInvalid("price", "is missing")
    price = payload["price"]
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise SupplierPayloadInvalid("price", f"must be a number, got {price!r}")
    try:
        fields["price"] = parse_money(price, payload.get("currency"))
    except InvalidMoney as exc:
        raise SupplierPayloadInvalid(exc.field, str(exc)) from None
    isbn = payload.get("isbn")
    if isbn is not None:
        if not isinstance(isbn, str):
            raise SupplierPayloadInvalid("isbn", f"must be a string, got {isbn!r}")
        fields["isbn"] = isbn
    return AddSuppliedBook(fields=fields)


def invalid_from_domain(error: InvalidBook) -> SupplierPayloadInvalid:
    """A domain rejection of a supplied book, as a payload error naming the first field."""
    field, message = error.errors[0] if error.errors else ("payload", str(error))
    return SupplierPayloadInvalid(field, message if len(error.errors) <= 1 else str(error))
