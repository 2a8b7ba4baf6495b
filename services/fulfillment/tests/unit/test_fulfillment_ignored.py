"""Messages that do not move the saga: duplicates, late replies, unknown orders, anything after the end."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import bookshelf_contracts as c
import pytest
from bookshelf_fulfillment.domain.saga import Outcome, decide
from bookshelf_fulfillment.domain.state import MAX_HISTORY, SagaStatus

S = SagaStatus


def test_a_duplicate_is_recorded_and_sends_nothing(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    reserved = saga.incoming(saga.reserved())
    first = saga.feed(reserved)

    again = saga.feed(reserved)

    assert saga.types(first) == ["ConfirmOrder", "CreateShipment"]
    assert again.outcome is Outcome.IGNORED
    assert again.commands == ()
    assert again.action_note == "ignored: duplicate (message already handled)"
    assert saga.current.state is S.AWAITING_SHIPMENT
    assert [e.message_id for e in saga.current.history][-2:] == [reserved.message_id, reserved.message_id]


def test_a_redelivered_order_placed_does_not_reserve_twice(saga) -> None:
    placed = saga.incoming(saga.placed())
    saga.feed(placed)
    saga.feed(saga.reserved())

    again = saga.feed(placed)

    assert again.outcome is Outcome.IGNORED
    assert again.commands == ()
    assert saga.current.state is S.AWAITING_SHIPMENT


def test_a_second_order_placed_with_a_new_id_does_not_fit_a_running_saga(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)

    decision = saga.feed(saga.placed())

    assert decision.outcome is Outcome.IGNORED
    assert decision.action_note == "ignored: OrderPlaced does not fit AWAITING_STOCK"


def test_shippings_repeated_answer_to_a_repeated_create_is_ignored(saga) -> None:
    saga.advance_to(S.AWAITING_DISPATCH)
    tracking = saga.current.tracking_number

    decision = saga.feed(saga.created())  # a new message id, the same shipment

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert saga.current.state is S.AWAITING_DISPATCH
    assert saga.current.tracking_number == tracking


@pytest.mark.parametrize(
    ("state", "late"),
    [
        (S.AWAITING_SHIPMENT, "reserved"),
        (S.AWAITING_DISPATCH, "reservation_failed"),
        (S.AWAITING_STOCK, "created"),
        (S.AWAITING_STOCK, "dispatched"),
        (S.AWAITING_SHIPMENT, "delivered"),
        (S.SHIPPED, "shipment_failed"),
    ],
)
def test_replies_that_do_not_fit_the_state_are_ignored(saga, state, late) -> None:
    saga.advance_to(state)

    decision = saga.feed(getattr(saga, late)())

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert saga.current.state is state
    assert decision.action_note.endswith(f"does not fit {state.value}")
    assert saga.current.history[-1].action == decision.action_note


@pytest.mark.parametrize("late", ["dispatched", "delivered", "shipment_failed"])
def test_anything_after_a_cancel_is_ignored(saga, late) -> None:
    # (a late StockReserved or ShipmentCreated is compensated: test_fulfillment_cancellation.py)
    saga.advance_to(S.AWAITING_STOCK)
    saga.feed(saga.requested())

    decision = saga.feed(getattr(saga, late)())

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert decision.action_note.endswith("after the end (CANCELLED)")
    assert saga.current.state is S.CANCELLED


def test_an_ordering_cancel_after_delivery_is_ignored(saga) -> None:
    saga.advance_to(S.DELIVERED)

    decision = saga.feed(saga.cancelled())

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert saga.current.state is S.DELIVERED


def test_an_ordering_cancel_after_shipping_does_not_fit(saga) -> None:
    # ordering never cancels a SHIPPED order (409), so this can only be a bug upstream: ignore it.
    saga.advance_to(S.SHIPPED)

    decision = saga.feed(saga.cancelled())

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert saga.current.state is S.SHIPPED


@pytest.mark.parametrize(
    "reply",
    [
        c.OrderConfirmed,
        c.OrderShipped,
        c.OrderDelivered,
        c.StockReleased,
        c.StockCommitted,
        c.ShipmentCancelled,
    ],
)
def test_replies_to_the_sagas_own_commands_are_noted(saga, reply) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)
    fields = {
        "order_id": saga.order_id,
        "version": 2,
        "tracking_number": "TRK-AB12CD34EF",
        "lines": [c.StockLine(book_id=saga.books[0], quantity=2)],
        "shipment_id": saga.shipment_id,
        "reason": "timed out",
    }
    message = reply(**{k: v for k, v in fields.items() if k in reply.model_fields})

    decision = saga.feed(message)

    assert decision.outcome is Outcome.NOTED
    assert decision.commands == ()
    assert saga.current.state is S.AWAITING_SHIPMENT


def test_the_order_cancelled_echo_of_the_sagas_own_cancel_is_noted(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    saga.feed(saga.reservation_failed())

    decision = saga.feed(saga.cancelled("out of stock"))

    assert decision.outcome is Outcome.NOTED
    assert decision.commands == ()


@pytest.mark.parametrize("message", ["reserved", "created", "cancelled", "delivered"])
def test_a_message_for_an_unknown_order_is_dropped_without_creating_an_instance(saga, message) -> None:
    decision = decide(None, saga.incoming(getattr(saga, message)()), saga.now)

    assert decision.outcome is Outcome.DROPPED
    assert decision.new_state is None
    assert decision.commands == ()
    assert decision.action_note.startswith("dropped:")


@pytest.mark.parametrize("state", [S.AWAITING_DISPATCH, S.SHIPPED])
def test_a_deadline_in_a_state_without_deadline_is_ignored(saga, state) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)
    deadline = saga.deadline()  # the AWAITING_SHIPMENT deadline, delivered late
    saga.feed(saga.created())
    if state is S.SHIPPED:
        saga.feed(saga.dispatched())

    decision = saga.feed(deadline, after=timedelta(seconds=120))

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert saga.current.state is state


@pytest.mark.parametrize("final", [S.DELIVERED, S.CANCELLED])
def test_a_deadline_after_the_end_is_ignored(saga, final) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    deadline = saga.deadline()
    if final is S.CANCELLED:
        saga.feed(saga.reservation_failed())
    else:
        for make in (saga.reserved, saga.created, saga.dispatched, saga.delivered):
            saga.feed(make())

    decision = saga.feed(deadline, after=timedelta(seconds=120))

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert decision.action_note.endswith(f"after the end ({final.value})")


def test_a_stale_deadline_of_an_earlier_wait_is_ignored(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    stock_deadline = saga.deadline()
    saga.feed(saga.reserved())  # AWAITING_SHIPMENT has a new deadline

    decision = saga.feed(stock_deadline, after=timedelta(seconds=30))

    assert decision.outcome is Outcome.IGNORED
    assert decision.commands == ()
    assert decision.action_note.startswith("ignored: stale deadline")
    assert saga.current.state is S.AWAITING_SHIPMENT


def test_the_deadline_message_is_handled_once_even_when_the_timer_emits_it_twice(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    deadline = saga.incoming(saga.deadline(), message_id=str(uuid4()))
    first = saga.feed(deadline, after=timedelta(seconds=61))

    again = saga.feed(deadline)

    assert len(first.commands) == 3
    assert again.outcome is Outcome.IGNORED
    assert again.commands == ()


def test_history_is_capped_by_dropping_ignored_entries_first(saga) -> None:
    saga.advance_to(S.AWAITING_DISPATCH)
    for _ in range(MAX_HISTORY + 10):
        saga.feed(saga.reserved())

    history = saga.current.history
    assert len(history) == MAX_HISTORY
    assert [e.event for e in history[:3]] == ["OrderPlaced", "StockReserved", "ShipmentCreated"]
    assert not history[0].ignored
