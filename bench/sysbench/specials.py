"""The scenarios beyond steady load: a burst, a flash sale, and a bulk import while orders flow."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .analysis import fulfilled_at, ms, pct, settled_at, step_figures
from .loadgen import Sent, open_loop
from .scenarios import Bench
from .target import ADMIN


async def burst(bench: Bench, orders: int, seconds: float) -> dict[str, Any]:
    """``orders`` orders within ``seconds``: how long until all are fulfilled, and their latencies."""
    await bench.settle()
    bench.say(f"burst: {orders} orders in {seconds:g} s")
    window = bench.monitor.window()
    sent = await open_loop(orders / seconds, seconds, bench.orders.fire)
    left = await bench.wait_done(sent, time.monotonic() + bench.settings.settle_s)
    figures = step_figures(sent, bench.tracker, orders / seconds, seconds)
    times = [t for s in sent if (t := fulfilled_at(bench.tracker, s)) is not None]
    figures["all_fulfilled_after_s"] = round(max(times) - sent[0].intended, 2) if times and not left else None
    figures["processes"] = bench.monitor.close(window)
    bench.say(
        f"  all fulfilled {figures['all_fulfilled_after_s']} s after the first order; "
        f"p50 {figures['latency_ms']['p50']} p99 {figures['latency_ms']['p99']} ms"
    )
    return figures


async def flash_sale(bench: Bench, orders: int, copies: int) -> dict[str, Any]:
    """``orders`` one-copy orders for the last ``copies`` copies of one book, sent at once."""
    await bench.settle()
    bench.say(f"flash sale: {orders} orders for the last {copies} copies")
    (book,) = await bench.add_books(1, f"Flash {bench.prefix}", copies + 1)
    http, url = bench.http, bench.target.url
    # Orders for the copies above ``copies`` (at least one) leave exactly ``copies``; they also prove
    # that ordering's replica knows the book.
    surplus = (await http.get(url("inventory", f"/inventory/{book}"))).json()["available"] - copies
    probes = []
    while surplus > 0:
        probe = Sent(intended=time.monotonic())
        await bench.orders.fire(probe, books=[book], quantity=min(100, surplus))
        if probe.status == 201:
            probes.append(probe)
            surplus -= min(100, surplus)
        else:
            await asyncio.sleep(0.2)
    await bench.wait_done(probes, time.monotonic() + 60)
    before = (await http.get(url("inventory", f"/inventory/{book}"))).json()

    async def one(item: Sent) -> None:
        await bench.orders.fire(item, books=[book], quantity=1)

    rate = min(float(orders), 500.0)
    sent = await open_loop(rate, orders / rate, one)
    left = await bench.wait_done(sent, time.monotonic() + bench.settings.settle_s, judge=_settled)
    outcomes = [settled_at(bench.tracker, s) for s in sent]
    settle = [t - s.done for s, (t, _) in zip(sent, outcomes, strict=True) if t is not None]
    confirmed = sum(1 for _, kind in outcomes if kind == "CONFIRMED")
    cancelled = sum(1 for _, kind in outcomes if kind == "CANCELLED")
    after = (await http.get(url("inventory", f"/inventory/{book}"))).json()
    shown = None
    for _ in range(100):  # the storefront catches up with the last level
        shown = (await http.get(url("storefront-query", f"/storefront/{book}"))).json().get("available")
        if shown == after["available"]:
            break
        await asyncio.sleep(0.1)
    figures = {
        "orders": orders,
        "copies": copies,
        "accepted": sum(1 for s in sent if s.status == 201),
        "confirmed": confirmed,
        "cancelled": cancelled,
        "unsettled": len(left),
        "oversold": confirmed > copies or after["available"] < 0 or after["reserved"] > after["on_hand"],
        "inventory_before": before,
        "inventory_after": after,
        "storefront_available": shown,
        "settle_ms": {f"p{q}": ms(pct(settle, q)) for q in (50, 95, 99)}
        | {"max": ms(max(settle, default=None))},
        "post_orders_ms": {f"p{q}": ms(pct([s.done - s.started for s in sent], q)) for q in (50, 99)},
    }
    bench.say(
        f"  confirmed {confirmed}, cancelled {cancelled}, unsettled {len(left)}, oversold "
        f"{figures['oversold']}; settle p50 {figures['settle_ms']['p50']} p99 {figures['settle_ms']['p99']} ms"
    )
    return figures


def _settled(tracker: Any, sent: Sent) -> float | None:
    return settled_at(tracker, sent)[0]


def import_csv(rows: int, tag: str) -> bytes:
    lines = ["title,author,price,currency"]
    lines += [f"Import {tag} {i},Import Author {i % 500},{5 + i % 40}.99,USD" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


async def bulk_import(bench: Bench, rows: int, rate: float, seconds: float) -> dict[str, Any]:
    """Orders at ``rate`` for ``seconds`` without, then with a ``rows``-book import posted 1 s in."""
    bench.say(f"bulk import: {rate:g} orders/s for {seconds:g} s without, then with {rows} books")
    baseline = await bench.step(rate, seconds, reads=False)
    body = import_csv(rows, bench.prefix)
    await bench.settle()
    window = bench.monitor.window()
    answer: dict[str, Any] = {}

    async def post_import() -> None:
        await asyncio.sleep(1.0)
        started = time.monotonic()
        headers = {**ADMIN, "content-type": "text/csv"}
        response = await bench.http.post(
            bench.target.url("catalog", "/books/import"), content=body, headers=headers, timeout=300
        )
        answer.update(status=response.status_code, seconds=round(time.monotonic() - started, 2))
        answer["accepted"] = response.json().get("accepted") if response.status_code == 202 else None

    importing = asyncio.create_task(post_import())
    sent = await open_loop(rate, seconds, bench.orders.fire)
    left = await bench.wait_done(sent, max(s.done for s in sent) + bench.settings.grace_s)
    await importing
    bench.outstanding += left
    during = step_figures(sent, bench.tracker, rate, seconds)
    during["processes"] = bench.monitor.close(window)
    during["import"] = answer
    base_p99, with_p99 = baseline["latency_ms"]["p99"], during["latency_ms"]["p99"]
    ratio = round(with_p99 / base_p99, 2) if base_p99 and with_p99 else None
    bench.say(f"  order p99 without {base_p99} ms, with the import {with_p99} ms (x{ratio}); import {answer}")
    return {"rows": rows, "rate": rate, "without": baseline, "with": during, "p99_ratio": ratio}
