"""The dashboard's API and pages: dead letters (replay, purge, token), overview (lag, throughput), pages."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import httpx
from bookshelf_contracts import OrderConfirmed
from bookshelf_infra.testing import eventually, unique_name
from confluent_kafka import Consumer, TopicPartition

from .conftest import ADMIN_TOKEN, STAFF, ObservatoryIT

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _dead_letter(obs: ObservatoryIT) -> tuple[str, str]:
    cid = f"it-{uuid4()}"
    _, record = await obs.send(obs.orders, OrderConfirmed(order_id=uuid4(), version=2), correlation_id=cid)
    entry_id = await obs.dead_letter(record, "storefront.orders")

    async def listed() -> bool:
        body = (await obs.staff.get("/api/dead-letters")).json()
        return any(e["entry_id"] == entry_id for e in body)

    await eventually(listed, timeout=30, message="dead letter listed")
    return entry_id, cid


async def test_replay_needs_the_token_then_republishes_and_closes(observatory_it: ObservatoryIT) -> None:
    entry_id, cid = await _dead_letter(observatory_it)
    url = f"/api/dead-letters/{entry_id}/replay"
    assert (await observatory_it.http.post(url)).status_code == 401
    bad = await observatory_it.http.post(url, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    replayed = await observatory_it.http.post(url, headers=STAFF)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["action"] == "replayed"
    listed = (await observatory_it.staff.get("/api/dead-letters")).json()
    assert entry_id not in [e["entry_id"] for e in listed]
    detail = (await observatory_it.staff.get(f"/api/dead-letters/{entry_id}")).json()
    assert detail["open"] is False
    again = await observatory_it.http.post(url, headers=STAFF)
    assert again.status_code == 409
    copies = await observatory_it.indexed(
        2, "correlation_id = :cid AND topic = :t", cid=cid, t=observatory_it.orders
    )
    assert sorted(r.replay_count for r in copies) == [0, 1]


async def test_purge_closes_an_entry_and_a_whole_topic(observatory_it: ObservatoryIT) -> None:
    first, _ = await _dead_letter(observatory_it)
    second, _ = await _dead_letter(observatory_it)
    purged = await observatory_it.http.post(f"/api/dead-letters/{first}/purge", headers=STAFF)
    assert purged.status_code == 200, purged.text
    assert (await observatory_it.staff.get(f"/api/dead-letters/{first}")).json()["open"] is False
    topic = await observatory_it.http.post(
        f"/api/dead-letter-topics/{observatory_it.orders}/purge", headers=STAFF
    )
    assert topic.status_code == 200, topic.text
    assert topic.json() == {"topic": f"{observatory_it.orders}.dlq", "closed": 1}
    assert (await observatory_it.staff.get(f"/api/dead-letters/{second}")).json()["open"] is False
    assert (await observatory_it.staff.get("/api/dead-letters/0000000000000000")).status_code == 404


def _commit_first_record(bootstrap: str, topic: str, group: str) -> None:
    """A consumer group that consumed one record of partition 0 and committed (lag: the rest)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)
    finally:
        consumer.close()


async def test_overview_reports_lag_throughput_and_dlq_depth(observatory_it: ObservatoryIT) -> None:
    for _ in range(4):
        await observatory_it.producer.send_and_wait(observatory_it.orders, value=b"{}", partition=0)
    await _dead_letter(observatory_it)
    group = unique_name("obs_it_lagging")
    await asyncio.to_thread(
        _commit_first_record, observatory_it.kafka.bootstrap_servers, observatory_it.orders, group
    )

    async def overview() -> dict[str, Any] | None:
        body: dict[str, Any] = (await observatory_it.staff.get("/api/overview")).json()
        lag = [g for g in body["lag"]["groups"] if g["group"] == group]
        return body if lag and lag[0]["records"] >= 3 else None

    body = await eventually(overview, timeout=30, message="lag of the test group")
    lag = next(g for g in body["lag"]["groups"] if g["group"] == group)
    assert (lag["topic"], lag["lane"], lag["partitions"]) == (observatory_it.orders, "primary", 1)
    assert lag["seconds"] is not None
    assert lag["seconds"] >= 0
    topics = {t["topic"]: t for t in body["throughput"]}
    assert topics[observatory_it.orders]["per_minute"] >= 5
    depth = {d["dlq_topic"]: d["open"] for d in body["dlq_depth"]}
    assert depth[f"{observatory_it.orders}.dlq"] == 1
    assert body["recent_failures"][0]["consumer_group"] == "storefront.orders"
    fulfillment = next(s for s in body["services"] if s["service"] == "fulfillment")
    assert fulfillment["status"] == "down"


async def test_pages_render_from_the_index_and_assets_are_local(observatory_it: ObservatoryIT) -> None:
    entry_id, cid = await _dead_letter(observatory_it)
    http = observatory_it.staff
    overview = await http.get("/")
    assert overview.status_code == 200
    assert "Throughput per topic" in overview.text
    assert 'src="/static/app.js"' in overview.text
    assert "http://" not in overview.text.replace('href="http://127.0.0.1:9/docs"', "")
    letters = await http.get("/dead-letters")
    assert f'data-entry-id="{entry_id}"' in letters.text
    detail = await http.get(f"/dead-letters/{entry_id}")
    assert "ValueError: boom: no such book" in detail.text
    trace = await http.get("/trace", params={"q": cid})
    assert 'data-type="OrderConfirmed"' in trace.text
    sagas = await http.get("/sagas")
    assert "did not answer" in sagas.text
    script = await http.get("/static/app.js")
    assert script.status_code == 200
    assert "new EventSource(" in script.text  # pushed, not polled
    assert "setInterval" not in script.text
    assert 'data-live="/events/overview"' in overview.text
    assert 'src="/static/vendor/uplot/uPlot.iife.min.js"' in overview.text
    for asset in ("uPlot.iife.min.js", "uPlot.min.css", "LICENSE", "README.md"):
        assert (await http.get(f"/static/vendor/uplot/{asset}")).status_code == 200, asset
    assert (await http.get("/partials/overview")).status_code == 200
    assert (await http.get("/metrics")).text.count("bookshelf_observatory_indexed_total") >= 1


def remote_client(observatory_it: ObservatoryIT, host: str = "203.0.113.7") -> httpx.AsyncClient:
    """A client from another machine (no dev-mode sign-in by itself)."""
    transport = httpx.ASGITransport(app=observatory_it.components.app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://observatory")


async def test_everything_but_health_needs_a_staff_sign_in(observatory_it: ObservatoryIT) -> None:
    entry_id, _ = await _dead_letter(observatory_it)
    async with remote_client(observatory_it) as anonymous:
        for path in (
            "/api/overview",
            "/api/lag",
            "/api/dead-letters",
            f"/api/dead-letters/{entry_id}",
            "/api/sagas",
            "/api/charts",
            f"/api/trace/{uuid4()}",
            "/events/overview",
            "/events/dead-letters",
        ):
            answer = await anonymous.get(path)
            assert answer.status_code == 401, path
            assert "boom" not in answer.text
        for path in (
            "/",
            "/dead-letters",
            f"/dead-letters/{entry_id}",
            "/trace",
            "/sagas",
            "/partials/overview",
        ):
            answer = await anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/sign-in?next=")
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/static/app.js")).status_code == 200
        form = await anonymous.get("/sign-in", params={"next": "/dead-letters"})
        assert form.status_code == 200
        assert 'name="token"' in form.text


async def test_sign_in_sets_a_strict_http_only_cookie(observatory_it: ObservatoryIT) -> None:
    entry_id, _ = await _dead_letter(observatory_it)
    async with remote_client(observatory_it) as browser:
        wrong = await browser.post("/sign-in", content="token=nope&next=%2F", headers=FORM)
        assert wrong.status_code == 401
        assert "set-cookie" not in wrong.headers
        signed = await browser.post(
            "/sign-in", content=f"token={ADMIN_TOKEN}&next=%2Fdead-letters", headers=FORM
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/dead-letters"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert ADMIN_TOKEN not in cookie
        page = await browser.get(f"/dead-letters/{entry_id}")
        assert page.status_code == 200
        assert "ValueError: boom" in page.text
        assert (await browser.get("/api/dead-letters")).status_code == 200
        out = await browser.post("/sign-out")
        assert out.status_code == 303
        browser.cookies.clear()
        assert (await browser.get("/api/dead-letters")).status_code == 401
        # No open redirect after signing in.
        away = await browser.post(
            "/sign-in", content=f"token={ADMIN_TOKEN}&next=//evil.example", headers=FORM
        )
        assert away.headers["location"] == "/"


async def test_dev_mode_on_this_machine_signs_in_by_itself(observatory_it: ObservatoryIT) -> None:
    async with remote_client(observatory_it, host="127.0.0.1") as local:
        first = await local.get("/sagas")
        assert first.status_code == 303
        assert first.headers["location"] == "/sagas"
        assert "HttpOnly" in first.headers["set-cookie"]
        assert (await local.get("/sagas")).status_code == 200
