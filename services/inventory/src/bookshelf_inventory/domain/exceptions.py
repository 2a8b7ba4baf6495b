"""Domain errors of inventory; each names the rule and the value that broke it."""

from __future__ import annotations

from uuid import UUID

MAX_RESTOCK = 100_000


class InventoryError(Exception):
    """Base class of every inventory domain error."""


class InvalidQuantity(InventoryError, ValueError):
    """A quantity outside its allowed range; ``errors`` names the field."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        super().__init__(f"{field} must be {rule}, got {value!r}")
        self.field = field
        self.value = value
        self.errors = [(field, f"must be {rule}, got {value!r}")]


class InventoryNotFound(InventoryError, LookupError):
    """No inventory record exists for this book."""

    def __init__(self, book_id: UUID) -> None:
        super().__init__(f"no inventory record for book_id {book_id}")
        self.book_id = book_id


class ReservationNotFound(InventoryError, LookupError):
    """No reservation exists for this order (or its reservation failed, so nothing is reserved)."""

    def __init__(self, order_id: UUID, detail: str | None = None) -> None:
        super().__init__(detail or f"no reservation for order_id {order_id}")
        self.order_id = order_id


class CannotCommit(InventoryError):
    """CommitStock for an order whose reservation is not open (released, failed or unknown)."""

    def __init__(self, order_id: UUID, status: str | None) -> None:
        state = f"is {status}" if status else "does not exist"
        super().__init__(
            f"cannot commit stock of order_id {order_id}: its reservation {state} (only RESERVED can be committed)"
        )
        self.order_id = order_id
        self.status = status


class StockInvariantBroken(InventoryError):
    """A change would make on_hand or reserved negative, or reserve more than is available."""
