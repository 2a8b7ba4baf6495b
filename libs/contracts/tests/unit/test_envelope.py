import re
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import orjson
import pytest
from bookshelf_contracts import (
    BookPriceUpdated,
    Envelope,
    InvalidEnvelope,
    Message,
    parse_message,
    trace_id_for,
)

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


def _envelope(message: Message, **overrides: object) -> Envelope:
    kwargs: dict[str, object] = {"producer": "catalog", "correlation_id": "req-1"} | overrides
    return Envelope.wrap(message, **kwargs)


def test_wrap_takes_type_and_version_from_the_class(samples: dict[str, Message]) -> None:
    envelope = _envelope(samples["BookPriceUpdated"], causation_id=UUID(int=7))
    assert envelope.type == "BookPriceUpdated"
    assert envelope.version == BookPriceUpdated.VERSION == 2
    assert envelope.causation_id == str(UUID(int=7))
    assert envelope.occurred_at.tzinfo is UTC
    assert envelope.data["new_price"] == {"amount": "9.99", "currency": "USD"}


def test_every_message_round_trips_through_json(samples: dict[str, Message]) -> None:
    for message in samples.values():
        envelope = _envelope(message)
        parsed = Envelope.from_json(envelope.to_json())
        assert parsed == envelope
        assert parse_message(parsed) == message


def test_to_json_is_compact_json_with_wire_types(samples: dict[str, Message]) -> None:
    occurred = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    envelope = _envelope(samples["OrderPlaced"], message_id=UUID(int=1), occurred_at=occurred)
    raw = envelope.to_json()
    assert b" " not in raw.replace(b"Ann Reader", b"").replace(b"1 Main St", b"")
    doc = orjson.loads(raw)
    assert list(doc) == [
        "message_id",
        "type",
        "version",
        "occurred_at",
        "correlation_id",
        "causation_id",
        "producer",
        "data",
    ]
    assert doc["message_id"] == "00000000-0000-0000-0000-000000000001"
    assert doc["occurred_at"] == "2026-03-04T05:06:07.891000Z"
    assert doc["causation_id"] is None
    assert doc["data"]["total"] == {"amount": "25.98", "currency": "USD"}
    assert doc["data"]["lines"][0]["book_id"] == str(samples["OrderPlaced"].lines[0].book_id)


def test_occurred_at_is_normalised_to_utc(samples: dict[str, Message]) -> None:
    local = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    envelope = _envelope(samples["ReleaseStock"], occurred_at=local)
    assert envelope.occurred_at == local
    assert envelope.occurred_at.tzinfo is UTC
    assert envelope.occurred_at.hour == 10


def test_naive_occurred_at_is_rejected(samples: dict[str, Message]) -> None:
    with pytest.raises(ValueError, match="timezone"):
        _envelope(samples["ReleaseStock"], occurred_at=datetime(2026, 1, 1))


def test_from_json_ignores_unknown_envelope_keys(samples: dict[str, Message]) -> None:
    envelope = _envelope(samples["ReleaseStock"])
    doc = orjson.loads(envelope.to_json()) | {"schema_url": "https://example"}
    assert Envelope.from_json(orjson.dumps(doc)) == envelope


def test_from_json_accepts_a_missing_causation_id(samples: dict[str, Message]) -> None:
    doc = orjson.loads(_envelope(samples["ReleaseStock"]).to_json())
    del doc["causation_id"]
    assert Envelope.from_json(orjson.dumps(doc)).causation_id is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"{}", "message_id: missing"),
    ],
)
def test_from_json_rejects_non_envelopes(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidEnvelope, match=message):
        Envelope.from_json(raw)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("message_id", "nope", "message_id: .*UUID"),
        ("version", 0, "version: .*greater than or equal to 1"),
        ("occurred_at", "2026-01-01T00:00:00", "occurred_at: .*timezone"),
        ("occurred_at", "yesterday", "occurred_at"),
        ("correlation_id", "", "correlation_id"),
        ("data", [1], "data: .*object"),
    ],
)
def test_from_json_names_the_bad_field(
    samples: dict[str, Message], field: str, value: object, message: str
) -> None:
    doc = orjson.loads(_envelope(samples["ReleaseStock"]).to_json()) | {field: value}
    with pytest.raises(InvalidEnvelope, match=message):
        Envelope.from_json(orjson.dumps(doc))


def test_missing_fields_are_listed(samples: dict[str, Message]) -> None:
    doc = orjson.loads(_envelope(samples["ReleaseStock"]).to_json())
    del doc["producer"], doc["data"]
    with pytest.raises(InvalidEnvelope, match="producer: missing; data: missing"):
        Envelope.from_json(orjson.dumps(doc))


def test_invalid_envelope_is_a_value_error() -> None:
    assert issubclass(InvalidEnvelope, ValueError)


def test_kafka_headers(samples: dict[str, Message]) -> None:
    message_id = uuid4()
    envelope = _envelope(samples["ConfirmOrder"], message_id=message_id, causation_id="cause-1")
    headers = dict(envelope.kafka_headers())
    assert list(headers) == ["message_id", "type", "correlation_id", "causation_id", "traceparent"]
    assert headers["message_id"] == str(message_id).encode()
    assert headers["type"] == b"ConfirmOrder"
    assert headers["correlation_id"] == b"req-1"
    assert headers["causation_id"] == b"cause-1"
    assert TRACEPARENT.match(headers["traceparent"].decode())
    assert headers["traceparent"].decode().split("-")[2] == message_id.hex[:16]


def test_causation_header_is_empty_without_a_cause(samples: dict[str, Message]) -> None:
    assert dict(_envelope(samples["ConfirmOrder"]).kafka_headers())["causation_id"] == b""


def test_one_correlation_id_is_one_trace_across_services(samples: dict[str, Message]) -> None:
    first = _envelope(samples["OrderPlaced"], producer="ordering", correlation_id="req-42")
    second = _envelope(samples["ReserveStock"], producer="fulfillment", correlation_id="req-42")
    trace = first.traceparent.split("-")[1]
    assert second.traceparent.split("-")[1] == trace == trace_id_for("req-42")
    assert first.traceparent.split("-")[2] != second.traceparent.split("-")[2]


def test_uuid_correlation_ids_keep_their_hex_as_trace_id() -> None:
    correlation = uuid4()
    assert trace_id_for(str(correlation)) == correlation.hex
    assert TRACEPARENT.match(f"00-{trace_id_for('anything at all')}-{'1' * 16}-01")
    assert trace_id_for(str(UUID(int=0))) != "0" * 32


def test_nil_message_id_still_gives_a_valid_span(samples: dict[str, Message]) -> None:
    envelope = _envelope(samples["ConfirmOrder"], message_id=UUID(int=0))
    span = envelope.traceparent.split("-")[2]
    assert TRACEPARENT.match(envelope.traceparent)
    assert span != "0" * 16


def test_envelope_is_frozen(samples: dict[str, Message]) -> None:
    envelope = _envelope(samples["ConfirmOrder"])
    with pytest.raises(ValueError, match="frozen"):
        envelope.producer = "x"
