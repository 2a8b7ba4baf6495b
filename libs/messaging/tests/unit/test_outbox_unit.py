"""Outbox envelopes, topic resolution, header storage, schema DDL, record classification (no I/O)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import BookAdded, Envelope, InvalidEnvelope, MessageValidationError, Money
from bookshelf_messaging import context
from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_messaging.outbox import Outbox, decode_headers, encode_headers, resolve_topic
from bookshelf_messaging.policy import RetryPolicy
from bookshelf_messaging.schema import create_statements, drop_statements
from sqlalchemy.dialects import postgresql


def book() -> BookAdded:
    return BookAdded(
        book_id=uuid4(),
        title="Dune",
        author="Frank Herbert",
        price=Money(amount=Decimal("9.99"), currency="USD"),
        version=1,
    )


def test_wrap_uses_context_ids_and_service() -> None:
    outbox = Outbox("catalog")
    with context.bind("corr-9", "cause-9"):
        envelope = outbox.wrap(book())
    assert (envelope.producer, envelope.correlation_id, envelope.causation_id) == (
        "catalog",
        "corr-9",
        "cause-9",
    )
    assert envelope.type == "BookAdded"


def test_wrap_without_context_starts_a_correlation() -> None:
    first, second = Outbox("catalog").wrap(book()), Outbox("catalog").wrap(book())
    assert first.correlation_id != second.correlation_id
    assert first.causation_id is None


def test_topic_resolution_per_lane() -> None:
    assert resolve_topic(book()) == "catalog.books"
    assert resolve_topic(book(), lane="bulk") == "catalog.books.bulk"
    assert resolve_topic(book(), topic="t1", lane="bulk") == "t1.bulk"
    with pytest.raises(ValueError, match="lane"):
        resolve_topic(book(), lane="fast")  # type: ignore[arg-type]


def test_headers_round_trip_through_json() -> None:
    headers = Outbox("catalog").wrap(book()).kafka_headers()
    assert decode_headers(encode_headers(headers)) == headers


def test_ddl_has_tables_partial_index_and_statement_trigger() -> None:
    ddl = "\n".join(str(s.compile(dialect=postgresql.dialect())) for s in create_statements())
    assert "CREATE TABLE outbox" in ddl
    assert "BIGSERIAL" in ddl
    assert "WHERE published_at IS NULL" in ddl
    assert "CREATE TABLE inbox" in ddl
    assert "PRIMARY KEY (consumer_group, message_id)" in ddl
    assert "FOR EACH STATEMENT" in ddl
    drops = "\n".join(str(s.compile(dialect=postgresql.dialect())) for s in drop_statements())
    assert "DROP TABLE IF EXISTS outbox" in drops


def _record(value: bytes | None) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord("t", 0, 0, 0, 0, b"k", value, None, 0, 0, [])


async def _never(*_args: Any) -> Any:
    raise AssertionError("not called")


def test_classify_routes_records() -> None:
    processor = PartitionProcessor("g", {"BookAdded": _never}, None, _never, RetryPolicy())  # type: ignore[arg-type]
    envelope = Outbox("catalog").wrap(book())
    item = processor.classify(_record(envelope.to_json()))
    assert item is not None
    assert item.message.TYPE == "BookAdded"
    with pytest.raises(InvalidEnvelope):
        processor.classify(_record(b"not json"))
    with pytest.raises(InvalidEnvelope):
        processor.classify(_record(None))
    bad = envelope.model_copy(update={"data": {**envelope.data, "price": "free"}})
    with pytest.raises(MessageValidationError):
        processor.classify(_record(bad.to_json()))
    unknown = envelope.model_copy(update={"type": "SomethingNew"})
    assert processor.classify(_record(unknown.to_json())) is None
    other = PartitionProcessor("g", {}, None, _never, RetryPolicy())  # type: ignore[arg-type]
    assert other.classify(_record(envelope.to_json())) is None
    assert isinstance(Envelope.from_json(envelope.to_json()), Envelope)
