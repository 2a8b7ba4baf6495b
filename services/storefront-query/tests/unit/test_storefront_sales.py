"""BookReport sales bookkeeping: every order effect counted once, whatever the order and repetition."""

from __future__ import annotations

import itertools
from decimal import Decimal
from uuid import uuid4

import pytest
from bookshelf_contracts import Message, OrderCancelled, OrderConfirmed, OrderDelivered, OrderShipped
from bookshelf_storefront.domain.sales import OrderSales, SaleLine, book_totals, on_event, settle

from .conftest import order_placed

ORDER = uuid4()
BOOK_A, BOOK_B = uuid4(), uuid4()
PLACED = order_placed(ORDER, [(BOOK_A, 2, "10.00"), (BOOK_B, 1, "4.50")])
CONFIRMED = OrderConfirmed(order_id=ORDER, version=2)
CANCELLED_AFTER = OrderCancelled(order_id=ORDER, reason="customer", previous_status="CONFIRMED", version=3)
CANCELLED_BEFORE = OrderCancelled(order_id=ORDER, reason="no stock", previous_status="PENDING", version=2)


def run(events: list[Message]) -> tuple[OrderSales, int]:
    """Apply events one by one as the projection does; returns the final state and the net sign sum."""
    state, net = OrderSales(), 0
    for message in events:
        state, sign = settle(on_event(state, message))
        net += sign
    return state, net


@pytest.mark.parametrize("events", list(itertools.permutations([PLACED, CONFIRMED])))
def test_a_confirmed_order_counts_once_in_any_order(events: tuple[Message, ...]) -> None:
    state, net = run([*events, *events])  # and again, as replays
    assert (net, state.counted) == (1, True)


@pytest.mark.parametrize("events", list(itertools.permutations([PLACED, CONFIRMED, CANCELLED_AFTER])))
def test_cancelled_after_confirmation_nets_to_zero_in_any_order(events: tuple[Message, ...]) -> None:
    state, net = run([*events, *reversed(events)])
    assert (net, state.counted, state.cancelled_after_confirm) == (0, False, True)


def test_cancelled_while_pending_never_counts() -> None:
    assert run([PLACED, CANCELLED_BEFORE, CANCELLED_BEFORE]) == (OrderSales(run([PLACED])[0].lines), 0)


@pytest.mark.parametrize(
    "later",
    [
        OrderShipped(order_id=ORDER, tracking_number="TRK-ABCDEFGHIJ", version=3),
        OrderDelivered(order_id=ORDER, version=4),
    ],
)
def test_shipping_or_delivery_implies_confirmation(later: Message) -> None:
    state, net = run([PLACED, later])  # OrderConfirmed lost (dead-lettered) or late
    assert (net, state.counted) == (1, True)
    assert run([PLACED, later, CONFIRMED])[1] == 1


def test_orders_without_lines_count_nothing_yet() -> None:
    state, net = run([CONFIRMED])
    assert (net, state.counts, state.confirmed) == (0, False, True)


def test_book_totals_sum_per_book_and_sign() -> None:
    lines = (
        SaleLine(BOOK_A, 2, Decimal("20.00"), "USD"),
        SaleLine(BOOK_A, 1, Decimal("10.00"), "USD"),
        SaleLine(BOOK_B, 1, Decimal("4.50"), "USD"),
    )
    totals = book_totals(lines, -1)
    assert {(t.book_id, t.quantity, t.amount) for t in totals} == {
        (BOOK_A, -3, Decimal("-30.00")),
        (BOOK_B, -1, Decimal("-4.50")),
    }
    assert [str(t.book_id) for t in totals] == sorted(str(t.book_id) for t in totals)


def test_lines_keep_line_totals_and_survive_json() -> None:
    state, _ = run([PLACED])
    assert state.lines is not None
    assert {(line.book_id, line.amount) for line in state.lines} == {
        (BOOK_A, Decimal("20.00")),
        (BOOK_B, Decimal("4.50")),
    }
    assert tuple(SaleLine.from_json(line.to_json()) for line in state.lines) == state.lines
