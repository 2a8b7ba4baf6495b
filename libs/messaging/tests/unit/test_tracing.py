"""Messaging spans (bookshelf_messaging.tracing) with the SDK's in-memory exporter (no I/O)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from bookshelf_messaging import tracing
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

DERIVED = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    try:
        yield exporter
    finally:
        tracing.disable()


def record(
    headers: list[tuple[str, bytes]], topic: str = "orders", offset: int = 7
) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(topic, 0, offset, 0, 0, b"order-1", b"{}", None, 0, 0, headers)


def only(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    matching = [span for span in spans if span.name == name]
    assert len(matching) == 1, [span.name for span in spans]
    return matching[0]


def test_disabled_changes_no_header_and_opens_no_span() -> None:
    headers = [("message_id", b"m-1"), ("traceparent", DERIVED)]
    assert not tracing.enabled()
    with tracing.outbox_write(["orders"]) as span:
        assert span is None
    assert tracing.stamp(headers, None) == headers
    assert tracing.send_headers("orders", b"k", headers) == headers
    with tracing.process(record(headers), "group"):
        assert tracing.current_ids() is None


def test_outbox_send_and_process_chain_parent_to_child(exported: InMemorySpanExporter) -> None:
    with tracing.outbox_write(["orders"]) as written:
        stored = tracing.stamp([("message_id", b"m-1"), ("traceparent", DERIVED)], written)
    sent = tracing.send_headers("orders", b"order-1", stored)
    with tracing.process(record(sent), "fulfillment", "m-1"):
        ids = tracing.current_ids()

    spans = exported.get_finished_spans()
    outbox = only(spans, "outbox write orders")
    producer = only(spans, "send orders")
    consumer = only(spans, "process orders")
    assert producer.kind is SpanKind.PRODUCER
    assert consumer.kind is SpanKind.CONSUMER
    assert producer.parent is not None
    assert producer.parent.span_id == outbox.context.span_id
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id
    assert {outbox.context.trace_id, producer.context.trace_id, consumer.context.trace_id} == {
        outbox.context.trace_id
    }
    assert ids == (format(consumer.context.trace_id, "032x"), format(consumer.context.span_id, "016x"))
    assert producer.attributes is not None
    assert producer.attributes["messaging.message.id"] == "m-1"
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.consumer.group.name"] == "fulfillment"
    assert consumer.attributes["messaging.kafka.offset"] == 7
    assert [name for name, _ in sent].count("traceparent") == 1


def test_the_derived_traceparent_is_replaced_by_the_span_context(exported: InMemorySpanExporter) -> None:
    with tracing.outbox_write(["orders"]) as span:
        stamped = dict(tracing.stamp([("traceparent", DERIVED)], span))
    assert span is not None
    assert stamped["traceparent"] != DERIVED
    assert format(span.get_span_context().span_id, "016x") in stamped["traceparent"].decode()


def test_an_insert_for_several_topics_names_them_all(exported: InMemorySpanExporter) -> None:
    with tracing.outbox_write(["inventory.reservations", "inventory.stock", "inventory.stock"]):
        pass
    span = only(exported.get_finished_spans(), "outbox write")
    assert span.attributes is not None
    assert list(span.attributes["messaging.destination.names"]) == [
        "inventory.reservations",
        "inventory.stock",
    ]
    assert span.attributes["messaging.batch.message_count"] == 3


def test_a_batch_span_links_every_record(exported: InMemorySpanExporter) -> None:
    first = tracing.send_headers("orders", b"a", [("traceparent", DERIVED)])
    second = tracing.send_headers("orders", b"b", [])
    with tracing.process_batch([record(first), record(second, offset=8)], "storefront"):
        pass
    spans = exported.get_finished_spans()
    batch = only(spans, "process orders")
    producers = {span.context.span_id for span in spans if span.kind is SpanKind.PRODUCER}
    assert {link.context.span_id for link in batch.links} == producers
    assert batch.attributes is not None
    assert batch.attributes["messaging.batch.message_count"] == 2


def test_a_batch_of_one_is_parented_on_its_record(exported: InMemorySpanExporter) -> None:
    sent = tracing.send_headers("orders", b"a", [])
    with tracing.process_batch([record(sent)], "storefront"):
        pass
    spans = exported.get_finished_spans()
    producer = only(spans, "send orders")
    batch = only(spans, "process orders")
    assert batch.parent is not None
    assert batch.parent.span_id == producer.context.span_id


def test_a_failing_handler_marks_its_span_as_an_error(exported: InMemorySpanExporter) -> None:
    with pytest.raises(RuntimeError), tracing.process(record([]), "group"):
        raise RuntimeError("boom")
    span = only(exported.get_finished_spans(), "process orders")
    assert not span.status.is_ok
    assert span.events
    assert span.events[0].name == "exception"
