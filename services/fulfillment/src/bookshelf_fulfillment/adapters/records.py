"""Kafka records in and out: envelopes to ``Incoming``, commands and deadlines to records.

Inputs are JSON envelopes (API.md). An unknown message type is skipped (tolerant reader); a record
that is not a valid envelope, or whose data breaks its contract, raises ``InvalidRecord`` and is
dead-lettered by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bookshelf_contracts import (
    Envelope,
    InvalidEnvelope,
    Message,
    MessageValidationError,
    UnknownMessageType,
    key_for,
    parse_message,
    topic_for,
)
from pydantic import ValidationError

from bookshelf_fulfillment.domain.messages import (
    DEADLINES_TOPIC,
    DeadlinePassed,
    Incoming,
    OutgoingCommand,
    deadline_message_id,
)
from bookshelf_fulfillment.domain.state import SagaState

PRODUCER = "fulfillment"
Headers = list[tuple[str, bytes]]


class InvalidRecord(ValueError):
    """A record the saga cannot read: not an envelope, or data that breaks its contract."""


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """A record to produce: topic, key, value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


def parse_record(topic: str, value: bytes | None) -> Incoming | None:
    """The saga's view of a record; None for types the saga does not know (skipped)."""
    if value is None:
        raise InvalidRecord("record has no value (tombstone)")
    try:
        envelope = Envelope.from_json(value)
        message = _deadline(envelope) if topic == DEADLINES_TOPIC else parse_message(envelope)
    except UnknownMessageType:
        return None
    except (InvalidEnvelope, MessageValidationError) as exc:
        raise InvalidRecord(str(exc)) from exc
    incoming = Incoming(str(envelope.message_id), envelope.correlation_id, message)
    if incoming.order_id is None:
        return None  # not about an order: nothing for the saga
    return incoming


def _deadline(envelope: Envelope) -> Message:
    if envelope.type != DeadlinePassed.TYPE:
        raise UnknownMessageType(f"unknown message type {envelope.type!r} on {DEADLINES_TOPIC}")
    try:
        return DeadlinePassed.model_validate(envelope.data)
    except ValidationError as exc:
        raise MessageValidationError(f"invalid DeadlinePassed: {exc}") from exc


def command_record(outgoing: OutgoingCommand) -> OutgoingRecord:
    """The envelope of a command, keyed by order_id, on its topic (``inventory.commands`` ...)."""
    envelope = Envelope.wrap(
        outgoing.command,
        producer=PRODUCER,
        correlation_id=outgoing.correlation_id,
        causation_id=outgoing.causation_id,
        message_id=outgoing.message_id,
    )
    key = key_for(outgoing.command).encode()  # order_id: every command topic is keyed by it
    return OutgoingRecord(topic_for(outgoing.command), key, envelope.to_json(), envelope.kafka_headers())


def deadline_record(instance: SagaState, now: datetime | None = None) -> OutgoingRecord:
    """The DeadlinePassed record of an instance whose deadline passed (deterministic message id)."""
    assert instance.deadline is not None
    message = DeadlinePassed(
        order_id=instance.order_id, deadline=instance.deadline, state=instance.state.value
    )
    envelope = Envelope.wrap(
        message,
        producer=PRODUCER,
        correlation_id=instance.correlation_id,
        causation_id=instance.deadline_set_by,
        message_id=deadline_message_id(instance.order_id, instance.deadline),
        occurred_at=now or datetime.now(UTC),
    )
    key = str(instance.order_id).encode()
    return OutgoingRecord(DEADLINES_TOPIC, key, envelope.to_json(), envelope.kafka_headers())
