"""Every row of docs/domain.md's saga table, through the pure ``decide``."""

from __future__ import annotations

from datetime import timedelta

import bookshelf_contracts as c
import pytest
from bookshelf_fulfillment.domain.saga import Outcome
from bookshelf_fulfillment.domain.state import SagaStatus

S = SagaStatus


def test_order_placed_starts_the_saga_and_reserves_every_line(saga) -> None:
    decision = saga.feed(saga.placed())

    assert decision.outcome is Outcome.TRANSITION
    assert decision.from_state is None
    assert decision.to_state is S.AWAITING_STOCK
    assert saga.types(decision) == ["ReserveStock"]
    reserve = decision.commands[0].command
    assert isinstance(reserve, c.ReserveStock)
    assert [(line.book_id, line.quantity) for line in reserve.lines] == [
        (saga.books[0], 2),
        (saga.books[1], 1),
    ]
    state = saga.current
    assert state.reserve_requested
    assert not state.reserved
    assert state.deadline == saga.now + timedelta(seconds=60)
    assert state.address.country == "US"
    assert [e.event for e in state.history] == ["OrderPlaced"]


def test_stock_reserved_confirms_the_order_and_requests_the_shipment(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)

    decision = saga.feed(saga.reserved(), after=timedelta(seconds=5))

    assert decision.to_state is S.AWAITING_SHIPMENT
    assert saga.types(decision) == ["ConfirmOrder", "CreateShipment"]
    create = decision.commands[1].command
    assert isinstance(create, c.CreateShipment)
    assert create.address.model_dump() == saga.current.address.model_dump()
    assert [(line.book_id, line.quantity) for line in create.lines] == [
        (saga.books[0], 2),
        (saga.books[1], 1),
    ]
    assert saga.current.reserved
    assert saga.current.shipment_requested
    assert saga.current.deadline == saga.now + timedelta(seconds=60)  # a fresh deadline for the new wait


def test_stock_reservation_failed_cancels_with_the_short_lines(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    failed = saga.reservation_failed()

    decision = saga.feed(failed)

    assert decision.to_state is S.CANCELLED
    assert saga.types(decision) == ["CancelOrder"]
    cancel = decision.commands[0].command
    assert isinstance(cancel, c.CancelOrder)
    assert cancel.reason == "out of stock"
    assert cancel.short_lines == failed.short_lines
    assert saga.current.deadline is None
    assert saga.current.cancel_reason == "out of stock"


def test_shipment_created_records_the_tracking_number_and_sends_nothing(saga) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)

    decision = saga.feed(saga.created())

    assert decision.to_state is S.AWAITING_DISPATCH
    assert decision.commands == ()
    assert saga.current.tracking_number == "TRK-AB12CD34EF"
    assert saga.current.shipment_id == saga.shipment_id
    assert saga.current.deadline is None  # waiting for staff to dispatch has no deadline


def test_shipment_failed_releases_stock_and_cancels_with_the_reason(saga) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)

    decision = saga.feed(saga.shipment_failed("country AQ is not served"))

    assert decision.to_state is S.CANCELLED
    assert saga.types(decision) == ["ReleaseStock", "CancelOrder"]
    cancel = decision.commands[1].command
    assert isinstance(cancel, c.CancelOrder)
    assert cancel.reason == "shipment failed: country AQ is not served"


def test_a_very_long_shipment_failure_reason_still_fits_a_cancel_reason(saga) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)

    decision = saga.feed(saga.shipment_failed("x" * 1000))

    cancel = decision.commands[1].command
    assert isinstance(cancel, c.CancelOrder)
    assert len(cancel.reason) == 1000
    assert cancel.reason.endswith("...")


def test_shipment_dispatched_commits_stock_and_marks_the_order_shipped(saga) -> None:
    saga.advance_to(S.AWAITING_DISPATCH)

    decision = saga.feed(saga.dispatched())

    assert decision.to_state is S.SHIPPED
    assert saga.types(decision) == ["CommitStock", "MarkOrderShipped"]
    shipped = decision.commands[1].command
    assert isinstance(shipped, c.MarkOrderShipped)
    assert shipped.tracking_number == "TRK-AB12CD34EF"


def test_shipment_delivered_marks_the_order_delivered_and_ends_the_saga(saga) -> None:
    saga.advance_to(S.SHIPPED)

    decision = saga.feed(saga.delivered())

    assert decision.to_state is S.DELIVERED
    assert saga.types(decision) == ["MarkOrderDelivered"]
    assert saga.current.state.is_final


def test_customer_cancel_while_awaiting_stock_releases_and_cancels_at_once(saga) -> None:
    # ReserveStock is in flight: inventory applies the ReleaseStock after it (same partition).
    saga.advance_to(S.AWAITING_STOCK)

    decision = saga.feed(saga.requested("customer request"))

    assert decision.to_state is S.CANCELLED
    assert saga.types(decision) == ["ReleaseStock", "CancelOrder"]
    cancel = decision.commands[1].command
    assert isinstance(cancel, c.CancelOrder)
    assert cancel.reason == "customer request"
    assert saga.current.cancel_reason == "customer request"


@pytest.mark.parametrize("state", [S.AWAITING_SHIPMENT, S.AWAITING_DISPATCH])
@pytest.mark.parametrize("kind", ["requested", "cancelled"])  # cancelled: an ordering that cancelled at once
def test_customer_cancel_with_a_shipment_requested_cancels_the_shipment_first(saga, state, kind) -> None:
    saga.advance_to(state)

    decision = saga.feed(getattr(saga, kind)("customer request"))

    assert decision.to_state is S.CANCELLING
    assert saga.types(decision) == ["CancelShipment"]  # no release before shipping answered
    cancel = decision.commands[0].command
    assert isinstance(cancel, c.CancelShipment)
    assert cancel.reason == "order cancelled: customer request"
    assert saga.current.deadline is None
    assert (
        decision.action_note == "cancellation requested (customer request); sent CancelShipment -> CANCELLING"
    )


@pytest.mark.parametrize("state", [S.AWAITING_STOCK, S.AWAITING_SHIPMENT])
def test_deadline_passed_releases_cancels_the_shipment_and_the_order(saga, state) -> None:
    saga.advance_to(state)

    decision = saga.feed(saga.deadline(), after=timedelta(seconds=61))

    assert decision.to_state is S.CANCELLED
    assert saga.types(decision) == ["ReleaseStock", "CancelShipment", "CancelOrder"]
    cancel = decision.commands[2].command
    assert isinstance(cancel, c.CancelOrder)
    assert cancel.reason == "timed out"
    assert saga.current.cancel_reason == "timed out"
    assert saga.current.deadline is None
    assert decision.action_note.startswith(f"deadline passed in {state.value}")


def test_the_whole_happy_path_ends_delivered_with_one_history_entry_per_message(saga) -> None:
    saga.advance_to(S.DELIVERED)

    assert [e.event for e in saga.current.history] == [
        "OrderPlaced",
        "StockReserved",
        "ShipmentCreated",
        "ShipmentDispatched",
        "ShipmentDelivered",
    ]
    assert [e.action.rsplit("-> ", 1)[1] for e in saga.current.history] == [
        "AWAITING_STOCK",
        "AWAITING_SHIPMENT",
        "AWAITING_DISPATCH",
        "SHIPPED",
        "DELIVERED",
    ]
