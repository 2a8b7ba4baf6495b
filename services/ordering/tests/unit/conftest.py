"""Shared builders for ordering's unit tests (fixtures are prefixed ``ordering_`` to stay unique)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bookshelf_contracts import Address, Currency, Customer, Money
from bookshelf_contracts.testing import usd
from bookshelf_ordering.domain.model import Order
from bookshelf_ordering.domain.placement import CatalogEntry, RequestedLine

T0 = datetime(2024, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def ordering_books() -> dict[str, CatalogEntry]:
    """Three USD books and one EUR book, by nickname."""
    return {
        "dune": CatalogEntry(uuid.uuid4(), "Dune", usd("12.99")),
        "emma": CatalogEntry(uuid.uuid4(), "Emma", usd("5.50")),
        "ulysses": CatalogEntry(uuid.uuid4(), "Ulysses", usd("20.00")),
        "faust": CatalogEntry(uuid.uuid4(), "Faust", Money(amount=Decimal("9.00"), currency=Currency.EUR)),
    }


@pytest.fixture
def ordering_place(ordering_books: dict[str, CatalogEntry]) -> Callable[..., Order]:
    """Place an order of ``(nickname, quantity)`` lines at T0."""

    def place(*lines: tuple[str, int]) -> Order:
        items = [RequestedLine(ordering_books[name].book_id, quantity) for name, quantity in lines]
        return Order.place(
            order_id=uuid.uuid4(),
            customer=Customer(name="Ada Lovelace", email="ada@example.com"),
            shipping_address=Address(street="1 Main St", city="Springfield", zip_code="12345"),
            items=items,
            catalog={entry.book_id: entry for entry in ordering_books.values()},
            now=T0,
        )

    return place
