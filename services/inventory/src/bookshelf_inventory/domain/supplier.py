"""Anti-corruption layer for the BookSupply feed: its raw payloads in, inventory's terms out.

Only ``stock_replenished`` concerns inventory; it becomes a ``SupplierRestock`` (a quantity and the
book by id or by ISBN). Anything wrong with a payload raises ``InvalidSupplierPayload`` naming the
field and the value, which the consumer turns into a dead letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from bookshelf_inventory.domain.exceptions import InvalidQuantity, InventoryError
from bookshelf_inventory.domain.stock import check_restock_quantity

STOCK_REPLENISHED = "stock_replenished"
_SEPARATORS = str.maketrans("", "", "- ")


class InvalidSupplierPayload(InventoryError, ValueError):
    """A supplier payload with a missing key or a bad value (retrying cannot fix it)."""


@dataclass(frozen=True, slots=True)
class SupplierRestock:
    """Restock ``quantity`` units of the book named by ``book_id`` or else by ``isbn`` (ISBN-13)."""

    quantity: int
    book_id: UUID | None = None
    isbn: str | None = None


def translate(event_type: str, payload: Mapping[str, Any]) -> SupplierRestock | None:
    """The restock a payload asks for, or None for event types inventory does not handle."""
    if event_type != STOCK_REPLENISHED:
        return None
    quantity = _quantity(payload)
    raw_id = payload.get("book_id")
    if raw_id is not None:
        return SupplierRestock(quantity=quantity, book_id=_uuid(raw_id))
    raw_isbn = payload.get("isbn")
    if raw_isbn is not None:
        return SupplierRestock(quantity=quantity, isbn=normalize_isbn(raw_isbn))
    raise InvalidSupplierPayload(
        f"{STOCK_REPLENISHED} payload needs payload.book_id or payload.isbn; keys were {sorted(payload)}"
    )


def _quantity(payload: Mapping[str, Any]) -> int:
    if "quantity" not in payload:
        raise InvalidSupplierPayload(
            f"{STOCK_REPLENISHED} payload has no payload.quantity; keys were {sorted(payload)}"
        )
    raw = payload["quantity"]
    # Suppliers send numbers as JSON strings now and then: "12" is accepted, "12.5" and "x" are not.
    value = int(raw) if isinstance(raw, str) and raw.strip().isdigit() else raw
    try:
        return check_restock_quantity(value, "payload.quantity")
    except InvalidQuantity as exc:
        raise InvalidSupplierPayload(str(exc)) from exc


def _uuid(raw: Any) -> UUID:
    try:
        return UUID(str(raw))
    except ValueError:
        raise InvalidSupplierPayload(f"payload.book_id must be a UUID, got {raw!r}") from None


def _isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _valid_isbn10(digits: str) -> bool:
    if not digits[:9].isdigit() or not (digits[9].isdigit() or digits[9] in "Xx"):
        return False
    total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9]))
    return (total + (10 if digits[9] in "Xx" else int(digits[9]))) % 11 == 0


def normalize_isbn(raw: Any) -> str:
    """ISBN-13 digits (the catalog's form) of an ISBN-10 or ISBN-13; raises InvalidSupplierPayload."""
    digits = raw.translate(_SEPARATORS) if isinstance(raw, str) else ""
    if len(digits) == 13 and digits.isdigit() and _isbn13_check_digit(digits[:12]) == digits[12]:
        return digits
    if len(digits) == 10 and _valid_isbn10(digits):
        first12 = "978" + digits[:9]
        return first12 + _isbn13_check_digit(first12)
    raise InvalidSupplierPayload(
        f"payload.isbn must be an ISBN-10 or ISBN-13 with a valid check digit, got {raw!r}"
    )
