"""Inventory events and commands (docs/domain.md "Inventory").

Topics: ``inventory.stock`` (key book_id), ``inventory.reservations`` and ``inventory.commands``
(key order_id).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from bookshelf_contracts.base import Command, Event
from bookshelf_contracts.topic_names import INVENTORY_COMMANDS, INVENTORY_RESERVATIONS, INVENTORY_STOCK
from bookshelf_contracts.values import AggregateVersion, Count, Reason, ShortLine, StockLine

# --- inventory.stock -------------------------------------------------------------------------------


class StockRestocked(Event):
    """``quantity`` units were added to a book's stock; ``on_hand`` is the new absolute level."""

    TOPIC: ClassVar[str] = INVENTORY_STOCK

    book_id: UUID
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    on_hand: Count
    version: AggregateVersion


class InventoryLevelChanged(Event):
    """A book's stock record changed; absolute levels so read models can apply by version."""

    TOPIC: ClassVar[str] = INVENTORY_STOCK

    book_id: UUID
    on_hand: Count
    reserved: Count
    available: Count
    version: AggregateVersion

    @model_validator(mode="after")
    def _available_is_on_hand_minus_reserved(self) -> Self:
        if self.available != self.on_hand - self.reserved:
            raise ValueError(
                f"available must equal on_hand - reserved ({self.on_hand} - {self.reserved}), "
                f"got {self.available}"
            )
        return self


# --- inventory.reservations ------------------------------------------------------------------------


class StockReserved(Event):
    """Every line of an order's reservation was reserved."""

    TOPIC: ClassVar[str] = INVENTORY_RESERVATIONS

    order_id: UUID
    lines: list[StockLine]


class StockReservationFailed(Event):
    """An order's reservation failed and nothing changed; ``short_lines`` say which lines were short.

    ``reason`` is set when the refusal is not about stock: ``order closed`` for a reserve of an
    order whose reservation was already released (no short lines then).
    """

    TOPIC: ClassVar[str] = INVENTORY_RESERVATIONS

    order_id: UUID
    short_lines: list[ShortLine]
    reason: Reason | None = None


class StockReleased(Event):
    """An order's reservation was returned to available stock."""

    TOPIC: ClassVar[str] = INVENTORY_RESERVATIONS

    order_id: UUID
    lines: list[StockLine]


class StockCommitted(Event):
    """An order's reserved goods left the warehouse (on_hand and reserved both went down)."""

    TOPIC: ClassVar[str] = INVENTORY_RESERVATIONS

    order_id: UUID
    lines: list[StockLine]


# --- inventory.commands ----------------------------------------------------------------------------


class ReserveStock(Command):
    """Reserve all of an order's lines, or none."""

    TOPIC: ClassVar[str] = INVENTORY_COMMANDS

    order_id: UUID
    lines: Annotated[list[StockLine], Field(min_length=1, max_length=50)]


class ReleaseStock(Command):
    """Release what an order reserved (a no-op when nothing is reserved)."""

    TOPIC: ClassVar[str] = INVENTORY_COMMANDS

    order_id: UUID


class CommitStock(Command):
    """Commit an order's reservation: its goods left the warehouse."""

    TOPIC: ClassVar[str] = INVENTORY_COMMANDS

    order_id: UUID
