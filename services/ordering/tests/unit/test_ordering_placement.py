"""Placement rules (docs/domain.md "Ordering"): 1-50 lines, quantity 1-100, merge, replica, one currency."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from bookshelf_contracts import OrderPlaced
from bookshelf_ordering.domain.exceptions import InvalidOrder
from bookshelf_ordering.domain.model import Order, OrderStatus
from bookshelf_ordering.domain.placement import (
    CatalogEntry,
    RequestedLine,
    merge_lines,
    order_total,
    price_lines,
)

Place = Callable[..., Order]


def fields(exc: pytest.ExceptionInfo[InvalidOrder]) -> list[str]:
    return [field for field, _ in exc.value.errors]


def test_a_placed_order_is_pending_priced_from_the_replica(ordering_place: Place) -> None:
    order = ordering_place(("dune", 2), ("emma", 1))
    assert order.status is OrderStatus.PENDING
    assert order.version == 1
    assert [(line.title, line.quantity, str(line.unit_price)) for line in order.lines] == [
        ("Dune", 2, "12.99 USD"),
        ("Emma", 1, "5.50 USD"),
    ]
    assert str(order.total) == "31.48 USD"


def test_total_is_the_sum_of_quantity_times_unit_price(ordering_place: Place) -> None:
    order = ordering_place(("dune", 3), ("emma", 7), ("ulysses", 100))
    assert order.total.amount == Decimal("12.99") * 3 + Decimal("5.50") * 7 + Decimal("20.00") * 100
    assert [str(line.line_total) for line in order.lines] == ["38.97 USD", "38.50 USD", "2000.00 USD"]
    assert order_total(order.lines) == order.total


def test_lines_of_the_same_book_are_merged_in_first_seen_order(ordering_place: Place) -> None:
    order = ordering_place(("emma", 1), ("dune", 2), ("emma", 3))
    assert [(line.title, line.quantity) for line in order.lines] == [("Emma", 4), ("Dune", 2)]


def test_placing_records_order_placed_with_the_full_order(ordering_place: Place) -> None:
    order = ordering_place(("dune", 2), ("dune", 1))
    (event,) = order.pull_events()
    assert isinstance(event, OrderPlaced)
    assert event.order_id == order.order_id
    assert event.version == 1
    assert [(line.title, line.quantity) for line in event.lines] == [("Dune", 3)]
    assert str(event.total) == "38.97 USD"
    assert event.customer.email == "ada@example.com"
    assert event.shipping_address.country == "US"
    assert order.pull_events() == []


def test_an_order_needs_at_least_one_line() -> None:
    with pytest.raises(InvalidOrder) as exc:
        merge_lines([])
    assert fields(exc) == ["items"]


def test_an_order_has_at_most_50_lines() -> None:
    merge_lines([RequestedLine(uuid.uuid4(), 1) for _ in range(50)])
    with pytest.raises(InvalidOrder, match="at most 50 lines, got 51") as exc:
        merge_lines([RequestedLine(uuid.uuid4(), 1) for _ in range(51)])
    assert fields(exc) == ["items"]


@pytest.mark.parametrize("quantity", [0, -1, 101])
def test_quantity_must_be_1_to_100(quantity: int) -> None:
    items = [RequestedLine(uuid.uuid4(), 1), RequestedLine(uuid.uuid4(), quantity)]
    with pytest.raises(InvalidOrder, match=f"got {quantity}") as exc:
        merge_lines(items)
    assert fields(exc) == ["items[1].quantity"]


def test_quantity_bounds_are_inclusive() -> None:
    merged = merge_lines([RequestedLine(uuid.uuid4(), 1), RequestedLine(uuid.uuid4(), 100)])
    assert [line.quantity for line in merged.values()] == [1, 100]


def test_merged_quantity_over_100_names_the_first_line_of_that_book() -> None:
    book = uuid.uuid4()
    items = [RequestedLine(uuid.uuid4(), 1), RequestedLine(book, 60), RequestedLine(book, 41)]
    with pytest.raises(InvalidOrder, match="101 times") as exc:
        merge_lines(items)
    assert fields(exc) == ["items[1].quantity"]


def test_an_unknown_book_is_rejected_naming_its_line(ordering_books: dict[str, CatalogEntry]) -> None:
    catalog = {entry.book_id: entry for entry in ordering_books.values()}
    unknown = uuid.uuid4()
    items = [RequestedLine(ordering_books["dune"].book_id, 1), RequestedLine(unknown, 1)]
    with pytest.raises(InvalidOrder, match=f"unknown book {unknown}") as exc:
        price_lines(items, catalog)
    assert fields(exc) == ["items[1].book_id"]


def test_mixed_currencies_are_rejected_naming_the_odd_line(ordering_books: dict[str, CatalogEntry]) -> None:
    catalog = {entry.book_id: entry for entry in ordering_books.values()}
    items = [
        RequestedLine(ordering_books["dune"].book_id, 1),
        RequestedLine(ordering_books["emma"].book_id, 1),
        RequestedLine(ordering_books["faust"].book_id, 1),
    ]
    with pytest.raises(InvalidOrder, match="priced in EUR but the order's other lines are in USD") as exc:
        price_lines(items, catalog)
    assert fields(exc) == ["items[2].book_id"]


def test_one_currency_other_than_usd_is_fine(ordering_books: dict[str, CatalogEntry]) -> None:
    catalog = {entry.book_id: entry for entry in ordering_books.values()}
    lines = price_lines([RequestedLine(ordering_books["faust"].book_id, 2)], catalog)
    assert str(order_total(lines)) == "18.00 EUR"


def test_every_broken_rule_is_reported_at_once(ordering_books: dict[str, CatalogEntry]) -> None:
    catalog = {entry.book_id: entry for entry in ordering_books.values()}
    items = [
        RequestedLine(ordering_books["dune"].book_id, 1),
        RequestedLine(uuid.uuid4(), 1),
        RequestedLine(ordering_books["faust"].book_id, 1),
    ]
    with pytest.raises(InvalidOrder) as exc:
        price_lines(items, catalog)
    assert fields(exc) == ["items[1].book_id", "items[2].book_id"]
