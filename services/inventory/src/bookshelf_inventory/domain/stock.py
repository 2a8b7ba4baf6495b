"""The stock record of one book: on hand, reserved, a version per change, and the events it records.

Every change bumps ``version`` and records ``InventoryLevelChanged`` with absolute levels, so read
models can apply the events by version whatever order they arrive in. ``initial``, ``restocked`` and
``committed`` are kept so conservation can be checked: ``on_hand = initial + restocked - committed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from bookshelf_contracts import Event, InventoryLevelChanged, StockRestocked

from bookshelf_inventory.domain.exceptions import MAX_RESTOCK, InvalidQuantity, StockInvariantBroken


def check_restock_quantity(quantity: object, field_name: str = "quantity") -> int:
    """``quantity`` as an int in 1-100000, or InvalidQuantity naming ``field_name`` and the value."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_RESTOCK:
        raise InvalidQuantity(field_name, quantity, f"an integer from 1 to {MAX_RESTOCK}")
    return quantity


@dataclass(eq=False)
class StockRecord:
    """Stock of one book (identity = book_id); ``available = on_hand - reserved``, never negative."""

    book_id: UUID
    on_hand: int
    reserved: int = 0
    version: int = 1
    initial: int = 0
    restocked: int = 0
    committed: int = 0
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def create(cls, book_id: UUID, initial_stock: int) -> StockRecord:
        """A new record with ``initial_stock`` on hand (version 1); records its first level."""
        if isinstance(initial_stock, bool) or not isinstance(initial_stock, int) or initial_stock < 0:
            raise InvalidQuantity("initial_stock", initial_stock, "an integer >= 0")
        record = cls(book_id=book_id, on_hand=initial_stock, initial=initial_stock)
        record.events.append(record.level())
        return record

    @property
    def available(self) -> int:
        """What can still be reserved."""
        return self.on_hand - self.reserved

    def level(self) -> InventoryLevelChanged:
        """The current absolute levels as an event."""
        return InventoryLevelChanged(
            book_id=self.book_id,
            on_hand=self.on_hand,
            reserved=self.reserved,
            available=self.available,
            version=self.version,
        )

    def restock(self, quantity: int) -> None:
        """Add 1-100000 units on hand; records StockRestocked and the new level."""
        quantity = check_restock_quantity(quantity)
        self.on_hand += quantity
        self.restocked += quantity
        self.version += 1
        self.events.append(
            StockRestocked(
                book_id=self.book_id, quantity=quantity, on_hand=self.on_hand, version=self.version
            )
        )
        self.events.append(self.level())

    def reserve(self, quantity: int) -> None:
        """Move ``quantity`` from available to reserved (callers check availability first)."""
        self._check_positive(quantity, "reserve")
        if quantity > self.available:
            raise StockInvariantBroken(
                f"book_id {self.book_id}: cannot reserve {quantity}, only {self.available} available"
            )
        self.reserved += quantity
        self._changed()

    def release(self, quantity: int) -> None:
        """Return ``quantity`` reserved units to available."""
        self._check_positive(quantity, "release")
        if quantity > self.reserved:
            raise StockInvariantBroken(
                f"book_id {self.book_id}: cannot release {quantity}, only {self.reserved} reserved"
            )
        self.reserved -= quantity
        self._changed()

    def commit(self, quantity: int) -> None:
        """Reserved goods left the warehouse: on_hand and reserved both go down by ``quantity``."""
        self._check_positive(quantity, "commit")
        if quantity > self.reserved:
            raise StockInvariantBroken(
                f"book_id {self.book_id}: cannot commit {quantity}, only {self.reserved} reserved"
            )
        self.on_hand -= quantity
        self.reserved -= quantity
        self.committed += quantity
        self._changed()

    def _check_positive(self, quantity: int, action: str) -> None:
        if quantity < 1:
            raise StockInvariantBroken(f"book_id {self.book_id}: cannot {action} {quantity} (must be >= 1)")

    def _changed(self) -> None:
        self.version += 1
        self.events.append(self.level())
