"""OpenTelemetry spans for the messaging hops: outbox write, relay send, consumer process.

A trace of one order crosses processes only through Kafka records, so the W3C ``traceparent`` of the
span that wrote an outbox row travels with the row (``outbox.headers``) and then with the record:

- ``Outbox.add`` opens an INTERNAL span ``outbox write <topic>`` under the current span (the HTTP
  request's or the consumed message's) and stores its context in the row's headers;
- the relay opens a PRODUCER span ``send <topic>`` per record, parented on the stored context, and
  puts its own context in the record's headers;
- the consumer runner (the saga worker uses the same one) opens a CONSUMER span ``process <topic>``
  per record, parented on the record's headers; a batch handler call gets one span with a link to
  every record.

Off unless ``enable()`` was called (``bookshelf_servicekit.telemetry`` does so when an OTLP endpoint
is configured): every function then returns at once, and records carry the envelope's derived
``traceparent`` (trace id from the correlation id, span id from the message id), as before.
Attributes follow the OpenTelemetry messaging semantic conventions (``messaging.*``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

Headers = list[tuple[str, bytes]]
TRACE_HEADERS = ("traceparent", "tracestate")

_propagator = TraceContextTextMapPropagator()
_tracer: Tracer | None = None


def enable(tracer_provider: trace.TracerProvider | None = None) -> None:
    """Open spans from now on (with ``tracer_provider``, else the global one)."""
    global _tracer
    provider = tracer_provider or trace.get_tracer_provider()
    _tracer = provider.get_tracer("bookshelf.messaging")


def disable() -> None:
    """Stop opening spans (records get the envelope's derived ``traceparent`` again)."""
    global _tracer
    _tracer = None


def enabled() -> bool:
    """Whether spans are opened."""
    return _tracer is not None


def context_of(headers: Sequence[tuple[str, bytes | None]] | None) -> Context:
    """The trace context carried by Kafka headers (an empty context when there is none)."""
    carrier = {
        name: value.decode(errors="replace")
        for name, value in headers or ()
        if name in TRACE_HEADERS and value
    }
    return _propagator.extract(carrier)


def stamp(headers: Headers, span: Span | None) -> Headers:
    """``headers`` with ``traceparent``/``tracestate`` replaced by ``span``'s context (as is if None)."""
    if span is None:
        return headers
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, trace.set_span_in_context(span))
    if not carrier:
        return headers
    kept = [(name, value) for name, value in headers if name not in TRACE_HEADERS]
    return kept + [(name, value.encode()) for name, value in carrier.items()]


def _attributes(topic: str, operation: str, **extra: Any) -> dict[str, Any]:
    attributes = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
    }
    attributes.update({key: value for key, value in extra.items() if value is not None})
    return attributes


@contextmanager
def outbox_write(topics: Sequence[str]) -> Iterator[Span | None]:
    """The span of one outbox insert (of ``len(topics)`` rows), current for the block; None when
    disabled. Named ``outbox write <topic>`` when every row goes to one topic, else ``outbox write``
    with the topics in ``messaging.destination.names``."""
    if _tracer is None:
        yield None
        return
    distinct = sorted(set(topics))
    count = len(topics) if len(topics) > 1 else None
    if len(distinct) == 1:
        name = f"outbox write {distinct[0]}"
        attributes = _attributes(distinct[0], "create", **{"messaging.batch.message_count": count})
    else:
        name = "outbox write"
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "create",
            "messaging.operation.name": "create",
            "messaging.destination.names": distinct,
            "messaging.batch.message_count": len(topics),
        }
    with _tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span


def send_headers(topic: str, key: bytes | None, headers: Headers) -> Headers:
    """Open and end the PRODUCER span of one record; its headers then carry that span's context.

    The span is parented on the context the outbox row stored. It covers handing the record to the
    producer, not the broker's acknowledgement (the relay marks rows per delivery report, later).
    """
    if _tracer is None:
        return headers
    attributes = _attributes(
        topic,
        "send",
        **{
            "messaging.kafka.message.key": key.decode(errors="replace") if key is not None else None,
            "messaging.message.id": next((v.decode() for n, v in headers if n == "message_id"), None),
        },
    )
    span = _tracer.start_span(
        f"send {topic}", context=context_of(headers), kind=SpanKind.PRODUCER, attributes=attributes
    )
    try:
        return stamp(headers, span)
    finally:
        span.end()


def process(record: Any, group: str, message_id: str | None = None) -> Any:
    """The CONSUMER span of one record (aiokafka ``ConsumerRecord``), current for the block."""
    if _tracer is None:
        return nullcontext()
    attributes = _attributes(
        record.topic,
        "process",
        **{
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "messaging.kafka.message.key": _text(record.key),
            "messaging.message.id": message_id,
        },
    )
    return _tracer.start_as_current_span(
        f"process {record.topic}",
        context=context_of(record.headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    )


def process_batch(records: Sequence[Any], group: str) -> Any:
    """One CONSUMER span for a batch handler call, with a link to each record's context (and, for a
    batch of one record, that record's context as its parent, as for ``process``)."""
    if _tracer is None:
        return nullcontext()
    parent = context_of(records[0].headers) if len(records) == 1 else None
    links = []
    for record in records:
        span_context = trace.get_current_span(context_of(record.headers)).get_span_context()
        if span_context.is_valid:
            links.append(Link(span_context))
    topic = records[0].topic
    attributes = _attributes(
        topic,
        "process",
        **{"messaging.consumer.group.name": group, "messaging.batch.message_count": len(records)},
    )
    return _tracer.start_as_current_span(
        f"process {topic}", context=parent, kind=SpanKind.CONSUMER, links=links, attributes=attributes
    )


def current_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex of the current span, or None (for log lines)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
