"""Live pages by server-sent events, the 15-minute charts (durable across a restart), the W3C trace id
column and the tracing-UI links, against real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import orjson
import sqlalchemy as sa
from bookshelf_contracts import OrderConfirmed
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_observatory.bootstrap import build
from bookshelf_observatory.entrypoints.sampler import LagSampler
from confluent_kafka import Consumer, TopicPartition

from .conftest import ADMIN_TOKEN, STAFF, ObservatoryIT
from .live_stream import LiveStream, open_stream
from .observatory_messages import order_placed

TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_the_dead_letter_page_stream_pushes_a_new_entry_without_being_asked(
    observatory_it: ObservatoryIT,
) -> None:
    app = observatory_it.components.app
    async with open_stream(app, "/events/dead-letters", STAFF) as live:
        first = await live.until(lambda s: s.named("partial"), "the first partial")
        assert live.status == 200
        assert live.headers["content-type"].startswith("text/event-stream")
        cid = f"it-live-{uuid4()}"
        _, record = await observatory_it.send(
            observatory_it.orders, OrderConfirmed(order_id=uuid4(), version=2), correlation_id=cid
        )
        entry_id = await observatory_it.dead_letter(record, "storefront.orders")
        assert entry_id not in first[0].data

        def pushed(stream: LiveStream) -> bool:
            return any(f'data-entry-id="{entry_id}"' in e.data for e in stream.named("partial"))

        await live.until(pushed, "the new dead letter pushed on the open stream")
        # The id names what the page shows, so a reconnect only gets what changed.
        assert live.named("partial")[-1].id.startswith("partial:")


async def test_the_overview_stream_carries_the_partial_and_the_charts(observatory_it: ObservatoryIT) -> None:
    for _ in range(3):
        await observatory_it.producer.send_and_wait(observatory_it.orders, value=b"{}", partition=0)
    await observatory_it.indexed(3)
    async with open_stream(observatory_it.components.app, "/events/overview", STAFF) as live:
        charts = await live.until(lambda s: s.named("charts"), "a charts event")
        partial = await live.until(lambda s: s.named("partial"), "a partial event")
    assert "Throughput per topic" in partial[0].data
    series = orjson.loads(charts[0].data)
    totals = {s["name"]: s["total"] for s in series["throughput"]["series"]}
    assert totals[observatory_it.orders] >= 3


async def test_the_stream_needs_a_staff_sign_in_and_takes_the_cookie(observatory_it: ObservatoryIT) -> None:
    app = observatory_it.components.app
    async with open_stream(app, "/events/sagas", {}) as anonymous:
        await anonymous.until(lambda s: s.status, "an answer")
    # From 127.0.0.1 in dev mode a *page* signs in by itself; the stream never does.
    assert anonymous.status == 401
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://observatory") as browser:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        signed = await browser.post("/sign-in", content=f"token={ADMIN_TOKEN}&next=%2F", headers=form)
        cookie = signed.headers["set-cookie"].split(";")[0]
    async with open_stream(app, "/events/sagas", {"Cookie": cookie}) as signed_in:
        await signed_in.until(lambda s: s.named("partial"), "the sagas partial")
    assert signed_in.status == 200
    assert "did not answer" in signed_in.named("partial")[0].data


def _commit(bootstrap: str, topic: str, group: str, offset: int) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    finally:
        consumer.close()


async def _lag_of(http: httpx.AsyncClient, group: str) -> list[float | None] | None:
    body: dict[str, Any] = (await http.get("/api/charts", headers=STAFF)).json()
    found = [s["values"] for s in body["lag"]["series"] if s["name"] == group]
    return found[0] if found and any(v for v in found[0] if v) else None


async def test_lag_is_sampled_into_postgresql_and_the_charts_survive_a_restart(
    observatory_it: ObservatoryIT,
) -> None:
    for _ in range(5):
        await observatory_it.producer.send_and_wait(observatory_it.orders, value=b"{}", partition=0)
    await observatory_it.indexed(5)
    group = unique_name("obs_it_chart_lag")
    await asyncio.to_thread(_commit, observatory_it.kafka.bootstrap_servers, observatory_it.orders, group, 1)
    sampler = next(t for t in observatory_it.components.extra_tasks if isinstance(t, LagSampler))
    task = asyncio.create_task(sampler.run())
    try:
        values = await eventually(
            lambda: _lag_of(observatory_it.staff, group), timeout=30, message="a lag sample of the group"
        )
    finally:
        sampler.stop()
        await asyncio.wait({task}, timeout=10)
    assert max(v for v in values if v is not None) >= 4
    rows = await observatory_it.rows("SELECT records FROM lag_samples WHERE group_id = :g", g=group)
    assert rows
    assert max(r.records for r in rows) >= 4

    # A new observatory on the same database (a restart) draws the same history at once.
    restarted = build(observatory_it.components.settings, observatory_it.kafka, topics=observatory_it.topics)
    try:
        transport = httpx.ASGITransport(app=restarted.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://observatory") as http:
            assert await _lag_of(http, group) is not None
            body = (await http.get("/api/charts", headers=STAFF)).json()
        totals = {s["name"]: s["total"] for s in body["throughput"]["series"]}
        assert totals[observatory_it.orders] >= 5
        assert body["window_s"] == 900
        assert len(body["throughput"]["x"]) == 900 // body["step_s"]
    finally:
        await restarted.engine.dispose()


async def test_lag_samples_older_than_the_window_are_deleted(observatory_it: ObservatoryIT) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    async with observatory_it.components.engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO lag_samples (at, group_id, records) VALUES (:at, 'old-group', 9)"),
            {"at": old},
        )
    charts = observatory_it.components.app.state.charts
    await charts.record_lag([{"group": "fresh-group", "topic": "t", "records": 2, "seconds": 0.5}])
    groups = {r.group_id for r in await observatory_it.rows("SELECT group_id FROM lag_samples")}
    assert "old-group" not in groups
    assert "fresh-group" in groups


async def test_the_indexer_stores_the_trace_id_and_the_trace_page_links_the_tracing_ui(
    observatory_it: ObservatoryIT,
) -> None:
    cid = f"it-trace-{uuid4()}"
    order_id = uuid4()
    traceparent = f"00-{TRACE_A}-00f067aa0ba902b7-01".encode()
    placed, _ = await observatory_it.send(
        observatory_it.orders,
        order_placed(order_id, uuid4()),
        correlation_id=cid,
        extra_headers=[("traceparent", traceparent)],
    )
    await observatory_it.send(
        observatory_it.orders,
        OrderConfirmed(order_id=order_id, version=2),
        correlation_id=cid,
        causation=placed,
    )
    rows = await observatory_it.indexed(2, "correlation_id = :cid", cid=cid)
    by_type = {r.type: r.trace_id for r in rows}
    assert by_type["OrderPlaced"] == TRACE_A
    assert by_type["OrderConfirmed"] is not None  # the envelope's own traceparent
    assert by_type["OrderConfirmed"] != TRACE_A

    document = (await observatory_it.staff.get(f"/api/trace/{cid}")).json()
    assert document["trace_ids"] == [TRACE_A, by_type["OrderConfirmed"]]
    root = document["roots"][0]
    assert root["trace_id"] == TRACE_A
    assert root["children"][0]["delay_ms"] is not None
    assert document["total_ms"] >= root["children"][0]["delay_ms"]
    page = await observatory_it.staff.get("/trace", params={"q": cid})
    assert f'href="http://tracing.example/trace/{TRACE_A}"' in page.text
    assert f'data-trace-id="{by_type["OrderConfirmed"]}"' in page.text
    assert 'id="trace-timeline"' in page.text
    assert 'class="delta"' in page.text


async def test_every_api_answer_is_a_typed_schema_in_openapi(observatory_it: ObservatoryIT) -> None:
    spec = (await observatory_it.http.get("/openapi.json")).json()
    for path, method in (
        ("/api/overview", "get"),
        ("/api/lag", "get"),
        ("/api/trace/{query}", "get"),
        ("/api/dead-letters", "get"),
        ("/api/dead-letters/{entry_id}", "get"),
        ("/api/dead-letters/{entry_id}/replay", "post"),
        ("/api/dead-letters/{entry_id}/purge", "post"),
        ("/api/dead-letter-topics/{topic}/purge", "post"),
        ("/api/sagas", "get"),
        ("/api/charts", "get"),
    ):
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        text = orjson.dumps(schema).decode()
        assert "$ref" in text, (path, schema)
    node = spec["components"]["schemas"]["TraceNode"]["properties"]
    assert {"delay_ms", "offset_ms", "trace_id", "children"} <= set(node)
