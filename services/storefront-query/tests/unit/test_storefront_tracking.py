"""OrderTracking: status by version per side, history deduplicated and sorted, in any arrival order."""

from __future__ import annotations

import itertools
from uuid import uuid4

import pytest
from bookshelf_contracts import (
    Message,
    OrderCancelled,
    OrderConfirmed,
    OrderShipped,
    ShipmentCreated,
    ShipmentDispatched,
    ShipmentFailed,
)
from bookshelf_storefront.domain.tracking import HistoryEntry, Tracking, apply

from .conftest import at, order_placed

ORDER, SHIPMENT = uuid4(), uuid4()
TRK = "TRK-0123456789"
STEPS: list[tuple[Message, int]] = [
    (order_placed(ORDER, [(uuid4(), 1, "12.00")]), 0),
    (OrderConfirmed(order_id=ORDER, version=2), 1),
    (ShipmentCreated(shipment_id=SHIPMENT, order_id=ORDER, tracking_number=TRK, version=1), 2),
    (ShipmentDispatched(shipment_id=SHIPMENT, order_id=ORDER, tracking_number=TRK, version=2), 3),
    (OrderShipped(order_id=ORDER, tracking_number=TRK, version=3), 4),
]


def replay(steps: list[tuple[Message, int]]) -> Tracking:
    state = Tracking()
    for message, minute in steps:
        state = apply(state, message, at(minute))
    return state


def test_in_order() -> None:
    state = replay(STEPS)
    assert (state.status, state.shipment_status, state.tracking_number) == ("SHIPPED", "DISPATCHED", TRK)
    assert (state.customer_email, str(state.total_amount), state.total_currency) == (
        "ann@example.com",
        "12.00",
        "USD",
    )
    assert [(e.source, e.status) for e in state.history] == [
        ("order", "PENDING"),
        ("order", "CONFIRMED"),
        ("shipment", "CREATED"),
        ("shipment", "DISPATCHED"),
        ("order", "SHIPPED"),
    ]
    assert state.updated_at == at(4)


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(STEPS))))[::7])
def test_any_arrival_order_and_duplicates_end_the_same(order: tuple[int, ...]) -> None:
    shuffled = [STEPS[i] for i in order]
    assert replay(shuffled + shuffled[:2]) == replay(STEPS)


def test_a_repeated_step_changes_nothing() -> None:
    state = replay(STEPS)
    again = apply(state, STEPS[2][0], at(9))
    assert again is state


def test_cancellation_keeps_its_reason() -> None:
    cancel = OrderCancelled(order_id=ORDER, reason="timed out", previous_status="CONFIRMED", version=3)
    state = replay([*STEPS[:2], (cancel, 5)])
    assert state.status == "CANCELLED"
    assert state.history[-1].reason == "timed out"


def test_shipment_failed_only_shows_while_no_shipment_exists() -> None:
    failed = ShipmentFailed(order_id=ORDER, reason="country AQ is not served")
    assert replay([STEPS[0], (failed, 1)]).shipment_status == "FAILED"
    assert replay([STEPS[0], STEPS[2], (failed, 3)]).shipment_status == "CREATED"


def test_history_entries_survive_json() -> None:
    entry = HistoryEntry(at(1), "order", "OrderCancelled", "CANCELLED", "why", 3)
    assert HistoryEntry.from_json(entry.to_json()) == entry
