"""Turning requested lines into priced order lines (docs/domain.md "Ordering": limits, merge, currency).

Errors name the request field they come from (``items[2].book_id``), so the HTTP answer can point at
the line that broke a rule; every broken rule is reported at once, not just the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from bookshelf_contracts import Currency, Money

from bookshelf_ordering.domain.exceptions import InvalidOrder

MAX_LINES = 50
MAX_QUANTITY = 100


@dataclass(frozen=True, slots=True)
class RequestedLine:
    """A line as the customer asked for it: a book and a quantity."""

    book_id: UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What ordering's catalog replica knows about a book: its title and current price."""

    book_id: UUID
    title: str
    price: Money


@dataclass(frozen=True, slots=True)
class ReplicaUpdate:
    """What one catalog event says about a book: its title at ``title_version`` (None and 0 when the
    event carries no title) and its price at ``price_version``."""

    book_id: UUID
    title: str | None
    title_version: int
    price: Money
    price_version: int


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A priced order line: ``quantity`` copies of a book at ``unit_price``."""

    book_id: UUID
    title: str
    quantity: int
    unit_price: Money

    @property
    def line_total(self) -> Money:
        """``quantity x unit_price``."""
        return self.unit_price * self.quantity


@dataclass(slots=True)
class _Merged:
    index: int  # the first request line of this book: errors about the merged line point there
    quantity: int


def merge_lines(items: Sequence[RequestedLine]) -> dict[UUID, _Merged]:
    """Lines of the same book merged (quantities added), in first-seen order; checks the limits."""
    errors: list[tuple[str, str]] = []
    if not items:
        errors.append(("items", "an order needs at least 1 line"))
    elif len(items) > MAX_LINES:
        errors.append(("items", f"an order has at most {MAX_LINES} lines, got {len(items)}"))
    merged: dict[UUID, _Merged] = {}
    for index, item in enumerate(items):
        if not 1 <= item.quantity <= MAX_QUANTITY:
            errors.append((f"items[{index}].quantity", f"must be 1-{MAX_QUANTITY}, got {item.quantity}"))
            continue
        line = merged.get(item.book_id)
        if line is None:
            merged[item.book_id] = _Merged(index, item.quantity)
        else:
            line.quantity += item.quantity
    for book_id, line in merged.items():
        if line.quantity > MAX_QUANTITY:
            errors.append(
                (
                    f"items[{line.index}].quantity",
                    f"book {book_id} is ordered {line.quantity} times over several lines; "
                    f"at most {MAX_QUANTITY} per book",
                )
            )
    if errors:
        raise InvalidOrder(errors)
    return merged


def price_lines(items: Sequence[RequestedLine], catalog: Mapping[UUID, CatalogEntry]) -> list[OrderLine]:
    """Merged lines priced from the catalog replica; unknown books and mixed currencies are rejected."""
    merged = merge_lines(items)
    errors: list[tuple[str, str]] = []
    lines: list[OrderLine] = []
    currency: Currency | None = None
    for book_id, line in merged.items():
        entry = catalog.get(book_id)
        field = f"items[{line.index}].book_id"
        if entry is None:
            errors.append((field, f"unknown book {book_id}: it is not in the catalog"))
            continue
        if currency is None:
            currency = entry.price.currency
        elif entry.price.currency != currency:
            errors.append(
                (
                    field,
                    f"book {book_id} is priced in {entry.price.currency.value} but the order's other "
                    f"lines are in {currency.value}; all lines must share one currency",
                )
            )
            continue
        lines.append(OrderLine(book_id, entry.title, line.quantity, entry.price))
    if errors:
        raise InvalidOrder(errors)
    return lines


def order_total(lines: Sequence[OrderLine]) -> Money:
    """The sum of ``quantity x unit_price`` over the lines (all in one currency)."""
    total = Money.zero(lines[0].unit_price.currency)
    for line in lines:
        total = total + line.line_total
    return total
