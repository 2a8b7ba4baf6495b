"""BookReport sales bookkeeping: each order's effect on units_sold and revenue counted exactly once.

An order counts when its lines are known (OrderPlaced), it was confirmed (OrderConfirmed, or any
later event that implies it: OrderShipped, OrderDelivered, OrderCancelled from CONFIRMED) and it was
not cancelled after confirmation. ``counted`` records whether the effect is applied to the report
right now; ``settle`` compares both and says whether to add (+1) or subtract (-1) the lines. Every
event only sets flags, so any arrival order and any number of replays end in the same totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from bookshelf_contracts import (
    Message,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPlaced,
    OrderShipped,
)

CONFIRMED = "CONFIRMED"


@dataclass(frozen=True, slots=True)
class SaleLine:
    """``quantity`` units of a book for ``amount`` (the line total) in ``currency``."""

    book_id: UUID
    quantity: int
    amount: Decimal
    currency: str

    def to_json(self) -> dict[str, Any]:
        """JSON form kept in the report's order table."""
        return {
            "book_id": str(self.book_id),
            "quantity": self.quantity,
            "amount": format(self.amount, "f"),
            "currency": self.currency,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SaleLine:
        """Inverse of ``to_json``."""
        return cls(UUID(data["book_id"]), int(data["quantity"]), Decimal(data["amount"]), data["currency"])


@dataclass(frozen=True, slots=True)
class OrderSales:
    """What the report knows about one order (see module doc)."""

    lines: tuple[SaleLine, ...] | None = None
    confirmed: bool = False
    cancelled_after_confirm: bool = False
    counted: bool = False

    @property
    def counts(self) -> bool:
        """True when the order's lines belong in units_sold and revenue."""
        return self.lines is not None and self.confirmed and not self.cancelled_after_confirm


def lines_of(message: OrderPlaced) -> tuple[SaleLine, ...]:
    """The order's lines with their line totals."""
    return tuple(
        SaleLine(line.book_id, line.quantity, line.line_total.amount, line.unit_price.currency.value)
        for line in message.lines
    )


def on_event(state: OrderSales, message: Message) -> OrderSales:
    """The order's flags after ``message`` (ordering events only; others change nothing)."""
    if isinstance(message, OrderPlaced):
        return state if state.lines is not None else replace(state, lines=lines_of(message))
    if isinstance(message, OrderConfirmed | OrderShipped | OrderDelivered):
        return replace(state, confirmed=True)
    if isinstance(message, OrderCancelled) and message.previous_status.upper() == CONFIRMED:
        return replace(state, confirmed=True, cancelled_after_confirm=True)
    return state


def settle(state: OrderSales) -> tuple[OrderSales, int]:
    """``(state with counted brought up to date, +1 to add its lines / -1 to subtract / 0)``."""
    if state.counts == state.counted:
        return state, 0
    return replace(state, counted=state.counts), 1 if state.counts else -1


def book_totals(lines: tuple[SaleLine, ...], sign: int) -> list[SaleLine]:
    """Lines summed per (book, currency), multiplied by ``sign``, in book id order (stable lock order)."""
    totals: dict[tuple[UUID, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for line in lines:
        total = totals[(line.book_id, line.currency)]
        total[0] += line.quantity
        total[1] += line.amount
    return [
        SaleLine(book_id, sign * quantity, sign * amount, currency)
        for (book_id, currency), (quantity, amount) in sorted(
            totals.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
        )
    ]
