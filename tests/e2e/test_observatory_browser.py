"""The observatory dashboard in a real browser (Playwright driving Debian's Chromium) against the
running system: pages render its data, live updates arrive without a reload (server-sent events), the
throughput chart grows as orders flow, a trace shows hop durations, Replay works, and no request
leaves the observatory (no CDN, vendored uPlot: the dashboard works offline)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from bookshelf_contracts import INVENTORY_COMMANDS, Envelope, ReserveStock, StockLine
from bookshelf_infra.testing import eventually
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.chromium import WAIT_MS, needs_chromium
from tests.e2e.system import ADMIN, RunningSystem
from tests.e2e.test_observatory_trace_cli import add_book, place_order

pytestmark = needs_chromium


async def poison(system: RunningSystem, correlation_id: str) -> str:
    """A ReserveStock with an invalid line (quantity 0): inventory dead-letters it at once."""
    order_id = uuid.uuid4()
    valid = ReserveStock(order_id=order_id, lines=[StockLine(book_id=uuid.uuid4(), quantity=1)])
    data: dict[str, Any] = valid.model_dump(mode="json")
    data["lines"][0]["quantity"] = 0
    envelope = Envelope.wrap(valid, producer="e2e", correlation_id=correlation_id).model_copy(
        update={"data": data}
    )
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            INVENTORY_COMMANDS,
            value=envelope.to_json(),
            key=str(order_id).encode(),
            headers=envelope.kafka_headers(),
        )
    finally:
        await producer.stop()
    return str(envelope.message_id)


async def _overview(page: Page, base: str) -> None:
    await page.goto(f"{base}/")
    await expect(page.locator('#services tr[data-service="catalog"] .badge')).to_have_text("ready")
    await expect(page.locator('#throughput tr[data-topic="catalog.books"]')).to_be_visible()
    await expect(page.locator('#throughput tr[data-topic="ordering.orders"]')).to_be_visible()
    await expect(page.locator("#lag")).to_contain_text("inventory")


ORDERS_DRAWN = """([selector, before]) => {
  const totals = JSON.parse(document.querySelector(selector).dataset.totals || "{}");
  return (totals["ordering.orders"] || 0) > before;
}"""


async def _chart_follows_orders(page: Page, system: RunningSystem, book_id: str) -> None:
    """The throughput chart is drawn (uPlot's canvas) and grows while orders flow, pushed by the
    server: the page is not reloaded."""
    chart = page.locator("#chart-throughput")
    await expect(chart.locator("canvas").first).to_be_visible()
    await expect(page.locator("#chart-lag canvas").first).to_be_visible()
    totals = json.loads(await chart.get_attribute("data-totals") or "{}")
    before = int(totals.get("ordering.orders", 0))
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(2):
            await place_order(client, system, book_id, f"e2e-browser-chart-{uuid.uuid4()}")
    await page.wait_for_function(ORDERS_DRAWN, arg=["#chart-throughput", before], timeout=WAIT_MS)
    await expect(page.locator("#chart-throughput .u-legend")).to_contain_text("ordering.orders")


async def _trace(page: Page, base: str, order_id: str) -> None:
    await page.goto(f"{base}/trace")
    await page.fill("#trace-query", order_id)
    await page.click("#trace-form button[type=submit]")
    tree = page.locator("#trace-tree")
    await expect(tree.locator('li[data-type="OrderPlaced"]')).to_be_visible()
    # The saga keeps going while we look: the live tree grows up to the shipment.
    await expect(tree.locator('li[data-type="OrderPlaced"] li[data-type="ShipmentCreated"]')).to_be_visible()
    # Hop durations: each caused message shows its delay from its cause, and the trace its total.
    delta = tree.locator('li[data-type="ShipmentCreated"] > .delta').first
    await expect(delta).to_have_text(re.compile(r"^\+-?[0-9.]+ (ms|s)$"))
    await expect(tree.locator('li[data-type="OrderPlaced"] > .delta')).to_have_count(0)  # the root
    total = page.locator("#trace-total")
    await expect(total).to_have_text(re.compile(r"^[0-9.]+ (ms|s)$"))
    assert float(await total.get_attribute("data-total-ms") or "0") > 0
    timeline = page.locator("#trace-timeline")
    await expect(timeline.locator('tr[data-type="ShipmentCreated"] .bar').first).to_be_visible()
    await expect(timeline.locator('tr[data-type="ShipmentCreated"] td.num').first).to_contain_text("+")


async def _dead_letter_replay(page: Page, system: RunningSystem) -> None:
    base, correlation_id = system.url("observatory"), f"e2e-browser-poison-{uuid.uuid4()}"
    await page.goto(f"{base}/dead-letters")
    await expect(page.locator("#dead-letter-list")).to_be_visible()
    await poison(system, correlation_id)  # after the page loaded: the row must arrive live
    row = page.locator(f'tr[data-correlation-id="{correlation_id}"]')
    await expect(row).to_have_count(1)
    entry_id = await row.get_attribute("data-entry-id")
    assert entry_id

    await row.locator(f'a[href="/dead-letters/{entry_id}"]').click()
    await expect(page.locator("#stacktrace")).to_contain_text("quantity")
    await expect(page.locator("#payload")).to_contain_text(correlation_id)
    await page.go_back()

    await page.fill("#admin-token", "dev-admin-token")
    await page.locator(f'tr[data-entry-id="{entry_id}"] button[data-action="replay"]').click()
    await expect(page.locator("#flash")).to_contain_text("replayed")
    await expect(page.locator(f'tr[data-entry-id="{entry_id}"]')).to_have_count(0)
    # The replayed record fails again (it is still invalid): a new entry with replay count 1 appears.
    again = page.locator(f'tr[data-correlation-id="{correlation_id}"]')
    await expect(again).to_have_count(1)
    assert await again.get_attribute("data-entry-id") != entry_id
    await expect(again.locator("td.num").nth(1)).to_have_text("1")
    await _closed_in_api(system, entry_id)


async def _closed_in_api(system: RunningSystem, entry_id: str) -> None:
    async def closed() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            url = f"{system.url('observatory')}/api/dead-letters/{entry_id}"
            entry = (await client.get(url, headers=ADMIN)).json()
        return entry["open"] is False

    await eventually(closed, timeout=30, message=f"dead letter {entry_id} closed after the replay")


async def test_dashboard_shows_the_running_system_and_replays_a_dead_letter(
    running_system: RunningSystem, browser: BrowserContext
) -> None:
    base = running_system.url("observatory")
    async with httpx.AsyncClient(timeout=10) as client:
        book_id = await add_book(client, running_system, "The Left Hand of Darkness")
        order_id = await place_order(client, running_system, book_id, f"e2e-browser-{uuid.uuid4()}")
    page = await browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    await _overview(page, base)
    await _chart_follows_orders(page, running_system, book_id)
    await _trace(page, base, order_id)
    await _dead_letter_replay(page, running_system)
    await page.goto(f"{base}/sagas")
    await expect(page.locator("#saga-states")).to_contain_text("AWAITING_")
    # The oldest instance of each state links to its trace.
    await expect(page.locator("#saga-states tr[data-state] a[href^='/trace?q=']").first).to_be_visible()

    assert requests
    assert [url for url in requests if not url.startswith(base)] == []
