"""Builders for storefront-query's unit tests (ordering events with one or more lines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from bookshelf_contracts import Address, Customer, OrderLineData, OrderPlaced
from bookshelf_contracts.testing import usd

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def order_placed(order_id: UUID, lines: list[tuple[UUID, int, str]]) -> OrderPlaced:
    """OrderPlaced version 1 with ``(book_id, quantity, unit price)`` lines."""
    data = [OrderLineData(book_id=b, title="T", quantity=q, unit_price=usd(p)) for b, q, p in lines]
    total = sum((line.line_total for line in data[1:]), data[0].line_total)
    return OrderPlaced(
        order_id=order_id,
        customer=Customer(name="Ann", email="ann@example.com"),
        shipping_address=Address(street="1 Main St", city="Springfield", zip_code="1"),
        lines=data,
        total=total,
        version=1,
    )
