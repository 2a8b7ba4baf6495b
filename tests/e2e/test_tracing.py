"""OpenTelemetry across the Kafka hops: one order placed gives one trace, every span with its true parent.

The session's system runs with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a small OTLP receiver in
the test session (``bookshelf_infra.otlp``, fixture ``otlp`` in conftest.py). The order is placed with a ``traceparent`` of the test's own, so the trace
continues the caller's. The chain checked is the one docs/observability.md draws:

    POST /orders (SERVER) -> outbox write <topic> -> send <topic> (PRODUCER)
        -> process <topic> (CONSUMER, next service) -> outbox write -> send -> process ...
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from bookshelf_infra.otlp import OtlpReceiver, ReceivedSpan

from tests.e2e.system import RunningSystem, Shop

pytestmark = pytest.mark.e2e

CONSUMING_SERVICES = {"ordering", "fulfillment", "inventory", "shipping", "storefront"}


@pytest.fixture
async def shop(running_system: RunningSystem) -> AsyncIterator[Shop]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Shop(running_system, client)


def _chain_problems(spans: list[ReceivedSpan], trace_id: str) -> list[str]:
    """What is wrong with the trace's hops (empty when every span has its true parent)."""
    by_id = {span.span_id: span for span in spans if span.trace_id == trace_id}
    problems = []
    for span in by_id.values():
        parent = by_id.get(span.parent_span_id)
        if span.kind == "CONSUMER":
            expected = ("PRODUCER", "send " + span.name.removeprefix("process "))
        elif span.kind == "PRODUCER":
            expected = ("INTERNAL", "outbox write " + span.name.removeprefix("send "))
        elif span.name.startswith("outbox write"):
            expected = ("SERVER|CONSUMER", "")
        else:
            continue
        kind, name = expected
        if parent is not None and parent.name == "outbox write":  # one insert of rows for several topics
            topics = parent.attributes.get("messaging.destination.names", [])
            name = "outbox write" if name.removeprefix("outbox write ") in topics else name
        if parent is None:
            problems.append(f"{span.service}: {span.name} has no parent in the trace")
        elif parent.kind not in kind.split("|") or (name and parent.name != name):
            problems.append(f"{span.service}: {span.name} has parent {parent.kind} {parent.name!r}")
        elif span.kind != "CONSUMER" and parent.service != span.service:
            problems.append(f"{span.name} in {span.service} has a parent in {parent.service}")
    return problems


def _consumers_in(spans: list[ReceivedSpan], trace_id: str) -> set[str]:
    """Services with a CONSUMER span in the trace, or linked to one of its PRODUCER spans."""
    producers = {s.span_id for s in spans if s.trace_id == trace_id and s.kind == "PRODUCER"}
    return {
        span.service
        for span in spans
        if span.kind == "CONSUMER"
        and (span.trace_id == trace_id or any(link in producers for _, link in span.links))
    }


async def test_one_order_is_one_trace_with_every_hop_parented(shop: Shop, otlp: OtlpReceiver) -> None:
    book = await shop.add_book("Traced")
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    order = await shop.place_order([(book, 1)], headers={"traceparent": f"00-{trace_id}-{caller_span}-01"})
    await shop.wait_saga(order["order_id"], "AWAITING_DISPATCH")

    async def whole_trace() -> list[ReceivedSpan]:
        spans = otlp.spans()
        assert _consumers_in(spans, trace_id) >= CONSUMING_SERVICES, _consumers_in(spans, trace_id)
        assert not _chain_problems(spans, trace_id), _chain_problems(spans, trace_id)
        return spans

    spans = await shop.wait_for(whole_trace, "the order's trace never became whole", within=60)
    mine = [span for span in spans if span.trace_id == trace_id]
    server = [s for s in mine if s.kind == "SERVER" and s.service == "ordering"]
    assert server, "no server span of POST /orders in the trace"
    assert server[0].parent_span_id == caller_span, "the server span does not continue the caller's trace"
    producers = [s for s in mine if s.kind == "PRODUCER"]
    assert {s.service for s in producers} >= {"ordering", "fulfillment", "inventory", "shipping"}
    assert all(s.attributes["messaging.system"] == "kafka" for s in producers)
    consumed = [s for s in mine if s.kind == "CONSUMER"]
    assert all(s.attributes.get("messaging.consumer.group.name") for s in consumed)
    database = [s for s in mine if s.kind == "CLIENT" and "db.system" in str(s.attributes)]
    assert database, "no database spans in the trace"


async def test_logs_carry_the_trace_and_span_ids(shop: Shop) -> None:
    book = await shop.add_book("Logged")
    trace_id = secrets.token_hex(16)
    order = await shop.place_order(
        [(book, 1)], headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    )
    await shop.wait_saga(order["order_id"], "AWAITING_DISPATCH")

    async def logged() -> bool:
        lines = (shop.system.home / "logs" / "fulfillment.log").read_text(errors="replace").splitlines()
        return any(f'"trace_id":"{trace_id}"' in line.replace(" ", "") for line in lines)

    await shop.wait_for(logged, "the saga's log lines never carried the trace id")
