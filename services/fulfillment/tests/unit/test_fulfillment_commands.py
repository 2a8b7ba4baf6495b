"""Deterministic command ids, correlation and causation, and the records the worker produces."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import bookshelf_contracts as c
import orjson
import pytest
from bookshelf_fulfillment.adapters.records import (
    InvalidRecord,
    command_record,
    deadline_record,
    parse_record,
)
from bookshelf_fulfillment.domain.messages import (
    DEADLINES_TOPIC,
    DeadlinePassed,
    command_id,
    deadline_message_id,
)
from bookshelf_fulfillment.domain.saga import decide
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


def test_a_command_record_is_an_envelope_keyed_by_order_on_its_topic(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    decision = saga.feed(saga.reserved())

    records = [command_record(x) for x in decision.commands]

    assert [r.topic for r in records] == ["ordering.commands", "shipping.commands"]
    for record, outgoing in zip(records, decision.commands, strict=True):
        assert record.key == str(saga.order_id).encode()
        envelope = c.Envelope.from_json(record.value)
        assert envelope.message_id == outgoing.message_id
        assert envelope.correlation_id == "corr-e2e-1"
        assert envelope.causation_id == outgoing.causation_id
        assert envelope.producer == "fulfillment"
        assert c.parse_message(envelope) == outgoing.command
        headers = dict(record.headers)
        assert headers["message_id"] == str(outgoing.message_id).encode()
        assert headers["causation_id"] == outgoing.causation_id.encode()


def test_the_deadline_record_has_one_id_per_order_and_deadline(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    state = saga.current

    first, second = deadline_record(state), deadline_record(state)

    assert first.topic == DEADLINES_TOPIC
    assert first.key == str(saga.order_id).encode()
    one, two = c.Envelope.from_json(first.value), c.Envelope.from_json(second.value)
    assert one.message_id == two.message_id == deadline_message_id(saga.order_id, state.deadline)
    assert one.causation_id == state.deadline_set_by
    assert one.correlation_id == state.correlation_id


def test_a_deadline_record_parses_back_into_the_deadline_message(saga) -> None:
    saga.advance_to(S.AWAITING_SHIPMENT)
    record = deadline_record(saga.current)

    incoming = parse_record(DEADLINES_TOPIC, record.value)

    assert incoming is not None
    assert isinstance(incoming.message, DeadlinePassed)
    assert incoming.message.deadline == saga.current.deadline
    assert saga.feed(incoming, after=timedelta(seconds=61)).to_state is S.CANCELLED


def test_an_input_record_parses_into_the_contract_with_its_envelope_ids(saga) -> None:
    envelope = c.Envelope.wrap(saga.reserved(), producer="inventory", correlation_id="corr-9")

    incoming = parse_record("inventory.reservations", envelope.to_json())

    assert incoming is not None
    assert incoming.message_id == str(envelope.message_id)
    assert incoming.correlation_id == "corr-9"
    assert incoming.order_id == saga.order_id
    assert isinstance(incoming.message, c.StockReserved)


def test_an_unknown_message_type_is_skipped() -> None:
    envelope = c.Envelope.wrap(c.ReleaseStock(order_id=uuid4()), producer="x", correlation_id="y")
    raw = orjson.loads(envelope.to_json())
    raw["type"] = "SomethingNew"

    assert parse_record("ordering.orders", orjson.dumps(raw)) is None


@pytest.mark.parametrize(
    "value",
    [b"not json", b"{}", None, b'{"message_id": "x"}'],
)
def test_an_unreadable_record_is_invalid(value) -> None:
    with pytest.raises(InvalidRecord):
        parse_record("ordering.orders", value)


def test_a_record_that_breaks_its_contract_is_invalid(saga) -> None:
    envelope = c.Envelope.wrap(saga.reserved(), producer="inventory", correlation_id="corr")
    raw = orjson.loads(envelope.to_json())
    raw["data"]["order_id"] = "not-a-uuid"

    with pytest.raises(InvalidRecord, match="order_id"):
        parse_record("inventory.reservations", orjson.dumps(raw))
