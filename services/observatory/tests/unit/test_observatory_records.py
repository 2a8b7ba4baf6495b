"""Parsing one record into index metadata: envelopes, poison values, dead letters, tombstones."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import Envelope, OrderConfirmed
from bookshelf_messaging.dlq import Failure, build_dead_letter
from bookshelf_observatory.domain.records import parse_record


def _envelope(cid: str = "c-1") -> Envelope:
    return Envelope.wrap(
        OrderConfirmed(order_id=uuid4(), version=2),
        producer="ordering",
        correlation_id=cid,
        causation_id=uuid4(),
    )


def test_an_envelope_gives_ids_type_producer_and_times() -> None:
    env = _envelope()
    parsed = parse_record(
        "ordering.orders", 2, 17, b"key-1", env.to_json(), env.kafka_headers(), 1_700_000_000_000
    )
    m = parsed.message
    assert m is not None
    assert parsed.dead_letter is None
    assert parsed.tombstone is None
    assert (m.topic, m.partition, m.offset, m.key) == ("ordering.orders", 2, 17, "key-1")
    assert (m.message_id, m.type, m.version) == (str(env.message_id), "OrderConfirmed", 1)
    assert (m.correlation_id, m.causation_id, m.producer) == ("c-1", env.causation_id, "ordering")
    assert m.occurred_at == env.occurred_at
    assert m.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert m.size == len(env.to_json())
    assert m.valid
    assert m.replay_count == 0


def test_headers_alone_are_enough_for_a_value_that_is_not_an_envelope() -> None:
    parsed = parse_record(
        "t", 0, 1, None, b"\xff garbage", [("type", b"Bogus"), ("correlation_id", b"c")], None
    )
    m = parsed.message
    assert m is not None
    assert (m.type, m.correlation_id, m.message_id, m.producer, m.timestamp) == (
        "Bogus",
        "c",
        None,
        None,
        None,
    )
    assert not m.valid


def test_a_replayed_record_carries_its_replay_count() -> None:
    env = _envelope()
    headers = [*env.kafka_headers(), ("dlq.replay_count", b"2")]
    m = parse_record("t", 0, 1, None, env.to_json(), headers, 0).message
    assert m is not None
    assert m.replay_count == 2


def test_a_dlq_record_is_a_message_and_a_dead_letter() -> None:
    env = _envelope("c-9")
    record = ConsumerRecord(
        "shipping.commands", 3, 41, 0, 0, b"order", env.to_json(), None, 0, 0, env.kafka_headers()
    )
    now = datetime.now(UTC)
    letter = build_dead_letter(record, "shipping.commands", Failure(KeyError("street"), 4, now, now))
    parsed = parse_record("shipping.commands.dlq", 1, 5, letter.key.encode(), letter.value, letter.headers, 0)
    dead = parsed.dead_letter
    assert dead is not None
    assert parsed.message is not None
    assert (dead.entry_id, dead.dlq_topic, dead.dlq_partition, dead.dlq_offset) == (
        letter.key,
        "shipping.commands.dlq",
        1,
        5,
    )
    assert (dead.original_topic, dead.original_partition, dead.original_offset) == (
        "shipping.commands",
        3,
        41,
    )
    assert (dead.consumer_group, dead.error_type, dead.attempts) == ("shipping.commands", "KeyError", 4)
    assert (dead.correlation_id, dead.message_type, dead.message_id) == (
        "c-9",
        "OrderConfirmed",
        str(env.message_id),
    )
    assert dead.closed_at is None


def test_a_dlq_record_without_value_is_a_tombstone() -> None:
    parsed = parse_record("x.dlq", 4, 9, b"abc123", None, [], 1_000)
    assert parsed.message is None
    assert parsed.tombstone is not None
    assert (parsed.tombstone.entry_id, parsed.tombstone.partition, parsed.tombstone.offset) == (
        "abc123",
        4,
        9,
    )


def test_json_that_is_not_an_envelope_does_not_speak_for_a_message() -> None:
    state = b'{"order_id": "o-1", "state": "AWAITING_STOCK", "correlation_id": "c-7"}'
    m = parse_record("fulfillment.saga-fulfillments-changelog", 0, 0, b"o-1", state, [], 0).message
    assert m is not None
    assert (m.correlation_id, m.valid) == (None, False)
