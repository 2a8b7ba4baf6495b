"""Deterministic command ids, correlation and causation, the timer's deadline message, history entries."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from bookshelf_fulfillment.domain.messages import DeadlinePassed, command_id, deadline_message_id
from bookshelf_fulfillment.domain.saga import Outcome, deadline_passed, decide
from bookshelf_fulfillment.domain.state import SagaStatus

S = SagaStatus


def test_commands_carry_the_correlation_id_and_are_caused_by_the_event(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    reserved = saga.incoming(saga.reserved())

    decision = saga.feed(reserved)

    for command in decision.commands:
        assert command.correlation_id == "corr-e2e-1"
        assert command.causation_id == reserved.message_id


def test_deciding_the_same_message_against_the_same_state_gives_the_same_command_ids(saga) -> None:
    # What a crash between send and table write amounts to: the message is decided again.
    saga.advance_to(S.AWAITING_STOCK)
    before = saga.current
    reserved = saga.incoming(saga.reserved())

    first = decide(before, reserved, saga.now)
    second = decide(before, reserved, saga.now + timedelta(seconds=7))

    assert [x.message_id for x in first.commands] == [x.message_id for x in second.commands]
    assert [x.command for x in first.commands] == [x.command for x in second.commands]


def test_command_ids_differ_by_cause_type_and_order() -> None:
    cause, order = str(uuid4()), uuid4()

    ids = {
        command_id(cause, "ReleaseStock", order),
        command_id(cause, "CancelOrder", order),
        command_id(str(uuid4()), "ReleaseStock", order),
        command_id(cause, "ReleaseStock", uuid4()),
    }

    assert len(ids) == 4
    assert command_id(cause, "ReleaseStock", order) == command_id(cause, "ReleaseStock", order)
    assert command_id(cause, "ReleaseStock", order).version == 5


def test_two_compensations_of_one_order_have_different_ids(saga) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)

    decision = saga.feed(saga.deadline(), after=timedelta(seconds=61))

    assert len({x.message_id for x in decision.commands}) == 3


def test_the_timers_deadline_message_has_one_id_per_order_and_deadline(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    state = saga.current

    first, second = deadline_passed(state), deadline_passed(state)

    assert first.message_id == second.message_id == str(deadline_message_id(saga.order_id, state.deadline))
    assert first.correlation_id == state.correlation_id
    assert isinstance(first.message, DeadlinePassed)
    assert (first.message.deadline, first.message.state) == (state.deadline, "AWAITING_STOCK")


def test_the_timeout_step_run_twice_writes_the_same_command_ids(saga) -> None:
    # A timer transaction that rolled back (or a second worker's timer) decides the same deadline again.
    saga.advance_to(S.AWAITING_SHIPMENT)
    before = saga.current
    later = saga.now + timedelta(seconds=61)

    first = decide(before, deadline_passed(before), later)
    second = decide(before, deadline_passed(before), later + timedelta(seconds=3))

    assert first.to_state is second.to_state is S.CANCELLED
    assert [x.message_id for x in first.commands] == [x.message_id for x in second.commands]


def test_every_stored_decision_carries_the_history_entry_to_append(saga) -> None:
    placed = saga.feed(saga.placed())
    ignored = saga.feed(saga.dispatched())
    dropped = decide(None, saga.incoming(saga.reserved()), saga.now)

    assert placed.entry is not None
    assert placed.entry == saga.current.history[0]
    assert placed.entry.action == "order placed; sent ReserveStock -> AWAITING_STOCK"
    assert ignored.outcome is Outcome.IGNORED
    assert ignored.entry is not None
    assert ignored.entry == saga.current.history[-1]
    assert dropped.new_state is None
    assert dropped.entry is None
