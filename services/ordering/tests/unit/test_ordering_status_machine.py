"""The order status machine: every allowed and forbidden transition, repeats, history, versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from bookshelf_contracts import (
    Event,
    OrderCancellationRequested,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderShipped,
)
from bookshelf_ordering.domain.exceptions import InvalidOrder, TransitionNotAllowed
from bookshelf_ordering.domain.model import Order, OrderStatus

Place = Callable[..., Order]
S = OrderStatus
TRK = "TRK-ABCDE12345"
LATER = datetime(2024, 11, 26, 10, 0, tzinfo=UTC)

ACTIONS: dict[str, Callable[[Order, datetime], bool]] = {
    "confirm": lambda order, at: order.confirm(at),
    "ship": lambda order, at: order.ship(TRK, at),
    "deliver": lambda order, at: order.deliver(at),
    "cancel": lambda order, at: order.cancel("changed my mind", at),
}
PATHS: dict[OrderStatus, list[str]] = {
    S.PENDING: [],
    S.CONFIRMED: ["confirm"],
    S.SHIPPED: ["confirm", "ship"],
    S.DELIVERED: ["confirm", "ship", "deliver"],
    S.CANCELLED: ["cancel"],
}
ALLOWED = {
    (S.PENDING, "confirm"): S.CONFIRMED,
    (S.CONFIRMED, "ship"): S.SHIPPED,
    (S.SHIPPED, "deliver"): S.DELIVERED,
    (S.PENDING, "cancel"): S.CANCELLED,
    (S.CONFIRMED, "cancel"): S.CANCELLED,
}
REPEATS = {(S.CONFIRMED, "confirm"), (S.SHIPPED, "ship"), (S.DELIVERED, "deliver"), (S.CANCELLED, "cancel")}
FORBIDDEN = sorted(
    (status, action)
    for status in S
    for action in ACTIONS
    if (status, action) not in ALLOWED and (status, action) not in REPEATS
)
EVENT_OF: dict[str, type[Event]] = {
    "confirm": OrderConfirmed,
    "ship": OrderShipped,
    "deliver": OrderDelivered,
    "cancel": OrderCancelled,
}


def order_in(place: Place, status: OrderStatus) -> Order:
    """A fresh order driven to ``status`` through legal transitions, events drained."""
    order = place(("dune", 1))
    for step, action in enumerate(PATHS[status], start=1):
        assert ACTIONS[action](order, LATER - timedelta(minutes=10 - step))
    order.pull_events()
    return order


def test_there_are_eleven_forbidden_transitions() -> None:
    assert len(FORBIDDEN) == 20 - len(ALLOWED) - len(REPEATS) == 11


@pytest.mark.parametrize(("start", "action"), sorted(ALLOWED))
def test_allowed_transition_changes_status_and_records_one_versioned_event(
    ordering_place: Place, start: OrderStatus, action: str
) -> None:
    order = order_in(ordering_place, start)
    version = order.version
    assert ACTIONS[action](order, LATER) is True
    assert order.status is ALLOWED[(start, action)]
    assert order.version == version + 1
    assert order.updated_at == LATER
    (event,) = order.pull_events()
    assert isinstance(event, EVENT_OF[action])
    assert event.version == order.version  # type: ignore[attr-defined]
    assert event.order_id == order.order_id  # type: ignore[attr-defined]
    assert order.history[-1].status is order.status
    assert order.history[-1].at == LATER


@pytest.mark.parametrize(("start", "action"), sorted(REPEATS))
def test_repeating_the_transition_already_made_is_a_no_op(
    ordering_place: Place, start: OrderStatus, action: str
) -> None:
    order = order_in(ordering_place, start)
    before = (order.status, order.version, len(order.history), order.updated_at, order.cancellation_reason)
    assert ACTIONS[action](order, LATER) is False
    assert (
        order.status,
        order.version,
        len(order.history),
        order.updated_at,
        order.cancellation_reason,
    ) == before
    assert order.pull_events() == []


@pytest.mark.parametrize(("start", "action"), FORBIDDEN)
def test_forbidden_transition_is_a_conflict_without_effect(
    ordering_place: Place, start: OrderStatus, action: str
) -> None:
    order = order_in(ordering_place, start)
    version = order.version
    with pytest.raises(TransitionNotAllowed, match=f"cannot {action} order .*: it is {start.value}") as exc:
        ACTIONS[action](order, LATER)
    assert (exc.value.action, exc.value.status) == (action, start.value)
    assert (order.status, order.version) == (start, version)
    assert order.pull_events() == []


def test_shipping_again_with_another_tracking_number_is_a_conflict(ordering_place: Place) -> None:
    order = order_in(ordering_place, S.SHIPPED)
    with pytest.raises(TransitionNotAllowed, match="already shipped with tracking number TRK-ABCDE12345"):
        order.ship("TRK-ZZZZZ99999", LATER)
    assert order.tracking_number == TRK


def test_cancel_keeps_reason_and_previous_status(ordering_place: Place) -> None:
    order = order_in(ordering_place, S.CONFIRMED)
    order.cancel("  out of stock  ", LATER)
    (event,) = order.pull_events()
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.previous_status, event.version) == ("out of stock", "CONFIRMED", 3)
    assert order.cancellation_reason == "out of stock"
    # a second cancel with another reason changes nothing: the first reason stays
    assert order.cancel("timed out", LATER) is False
    assert order.cancellation_reason == "out of stock"


def test_cancel_needs_a_reason(ordering_place: Place) -> None:
    order = ordering_place(("dune", 1))
    with pytest.raises(InvalidOrder, match="non-blank reason"):
        order.cancel("   ", LATER)
    assert order.status is S.PENDING


def test_ship_records_the_tracking_number(ordering_place: Place) -> None:
    order = order_in(ordering_place, S.CONFIRMED)
    order.ship(TRK, LATER)
    (event,) = order.pull_events()
    assert isinstance(event, OrderShipped)
    assert event.tracking_number == order.tracking_number == TRK


def test_history_keeps_every_status_with_time_and_reason(ordering_place: Place) -> None:
    order = order_in(ordering_place, S.DELIVERED)
    assert [entry.status for entry in order.history] == [S.PENDING, S.CONFIRMED, S.SHIPPED, S.DELIVERED]
    assert [entry.reason for entry in order.history] == [
        "order placed",
        "stock reserved",
        f"shipped with tracking number {TRK}",
        "delivered to the customer",
    ]
    times = [entry.at for entry in order.history]
    assert times == sorted(times)
    assert order.version == 4


def test_history_of_a_cancelled_order_ends_with_the_reason(ordering_place: Place) -> None:
    order = ordering_place(("dune", 1))
    order.cancel("customer request", LATER)
    assert [(e.status, e.reason) for e in order.history][-1] == (S.CANCELLED, "customer request")


@pytest.mark.parametrize("status", [S.PENDING, S.CONFIRMED])
def test_a_cancellation_request_keeps_the_status_and_is_recorded_once(ordering_place: Place, status) -> None:
    order = order_in(ordering_place, status)
    version = order.version
    order.pull_events()

    assert order.request_cancellation("customer request", LATER) is True
    assert order.request_cancellation("customer request", LATER) is False  # already pending

    assert order.status is status
    assert order.cancellation_pending
    assert order.version == version + 1
    assert (order.history[-1].status, order.history[-1].reason) == (
        status,
        "cancellation requested (customer request)",
    )
    (event,) = order.pull_events()
    assert isinstance(event, OrderCancellationRequested)
    assert (event.reason, event.version) == ("customer request", version + 1)


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED])
def test_a_cancellation_request_after_the_goods_left_is_refused_at_once(
    ordering_place: Place, status
) -> None:
    order = order_in(ordering_place, status)
    order.pull_events()
    with pytest.raises(TransitionNotAllowed, match=status.value):
        order.request_cancellation("customer request", LATER)
    assert order.pull_events() == []


def test_a_request_for_a_cancelled_order_changes_nothing(ordering_place: Place) -> None:
    order = order_in(ordering_place, S.CANCELLED)
    order.pull_events()
    assert order.request_cancellation("customer request", LATER) is False
    assert not order.cancellation_pending
    assert order.pull_events() == []


def test_shipping_an_order_with_a_pending_request_records_the_refusal(ordering_place: Place) -> None:
    order = order_in(ordering_place, S.CONFIRMED)
    order.request_cancellation("customer request", LATER)
    order.ship(TRK, LATER)
    assert order.status is S.SHIPPED
    assert not order.cancellation_pending
    assert (order.history[-1].status, order.history[-1].reason) == (
        S.SHIPPED,
        "cancellation refused: already dispatched",
    )
