"""A customer cancel is a request the saga decides: CANCELLING until shipping answers; late successes
after the end are compensated (docs/domain.md, "Fulfillment saga")."""

from __future__ import annotations

import bookshelf_contracts as c
import pytest
from bookshelf_fulfillment.domain.saga import Outcome
from bookshelf_fulfillment.domain.state import SagaStatus

S = SagaStatus


@pytest.mark.parametrize("answer", ["shipment_cancelled", "shipment_failed"])
def test_stock_is_released_only_once_shipping_confirmed_there_is_no_shipment(saga, answer) -> None:
    saga.advance_to(S.AWAITING_DISPATCH)
    saga.feed(saga.requested())

    decision = saga.feed(getattr(saga, answer)())

    assert decision.to_state is S.CANCELLED
    assert saga.types(decision) == ["ReleaseStock", "CancelOrder"]
    cancel = decision.commands[1].command
    assert isinstance(cancel, c.CancelOrder)
    assert cancel.reason == "customer request"
    assert saga.current.cancel_reason == "customer request"


def test_a_dispatched_shipment_refuses_the_cancel_commits_stock_and_ships(saga) -> None:
    saga.advance_to(S.AWAITING_DISPATCH)
    saga.feed(saga.requested())

    decision = saga.feed(saga.dispatched())

    assert decision.to_state is S.SHIPPED
    assert saga.types(decision) == ["CommitStock", "MarkOrderShipped"]  # never ReleaseStock
    assert decision.action_note == (
        "cancellation refused: already dispatched; sent CommitStock, MarkOrderShipped -> SHIPPED"
    )
    assert saga.current.cancel_reason is None
    assert saga.feed(saga.delivered()).to_state is S.DELIVERED


def test_a_request_after_the_dispatch_was_seen_is_refused_and_sends_nothing(saga) -> None:
    saga.advance_to(S.SHIPPED)

    decision = saga.feed(saga.requested())

    assert decision.outcome is Outcome.NOTED
    assert decision.commands == ()
    assert decision.action_note == "noted: cancellation refused: already dispatched"
    assert saga.current.state is S.SHIPPED


def test_the_shipment_created_while_cancelling_is_recorded_and_waits(saga) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)
    saga.feed(saga.requested())

    decision = saga.feed(saga.created())

    assert decision.outcome is Outcome.NOTED
    assert decision.commands == ()
    assert saga.current.state is S.CANCELLING
    assert saga.current.shipment_id == saga.shipment_id
    assert saga.feed(saga.shipment_cancelled()).to_state is S.CANCELLED


def test_the_whole_refused_path_has_one_transition_per_state(saga) -> None:
    saga.advance_to(S.AWAITING_DISPATCH)
    saga.feed(saga.requested())
    saga.feed(saga.dispatched())
    saga.feed(saga.delivered())

    moves = [e.action.rsplit("-> ", 1)[1] for e in saga.current.history if "-> " in e.action]
    assert moves == [
        "AWAITING_STOCK",
        "AWAITING_SHIPMENT",
        "AWAITING_DISPATCH",
        "CANCELLING",
        "SHIPPED",
        "DELIVERED",
    ]


def test_a_late_reservation_after_the_end_is_released_with_a_new_command(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    ended = saga.feed(saga.requested())
    assert ended.to_state is S.CANCELLED

    decision = saga.feed(saga.reserved())

    assert decision.outcome is Outcome.COMPENSATED
    assert saga.types(decision) == ["ReleaseStock"]
    (release,) = decision.commands
    assert release.message_id not in {command.message_id for command in ended.commands}
    assert saga.current.state is S.CANCELLED
    assert saga.current.history[-1].action == (
        "compensated: StockReserved after the end (CANCELLED); sent ReleaseStock"
    )


def test_a_late_shipment_after_the_end_is_cancelled(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    saga.feed(saga.requested())

    decision = saga.feed(saga.created())

    assert decision.outcome is Outcome.COMPENSATED
    assert saga.types(decision) == ["CancelShipment"]
    cancel = decision.commands[0].command
    assert isinstance(cancel, c.CancelShipment)
    assert cancel.reason == "order cancelled: customer request"


def test_the_same_late_reservation_again_is_a_duplicate(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    saga.feed(saga.requested())
    late = saga.incoming(saga.reserved())
    saga.feed(late)

    again = saga.feed(late)

    assert again.outcome is Outcome.IGNORED
    assert again.commands == ()


def test_a_reserve_refused_because_the_order_is_closed_is_noted_after_the_end(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    saga.feed(saga.requested())
    closed = c.StockReservationFailed(order_id=saga.order_id, short_lines=[], reason="order closed")

    decision = saga.feed(closed)

    assert decision.commands == ()
    assert saga.current.state is S.CANCELLED
