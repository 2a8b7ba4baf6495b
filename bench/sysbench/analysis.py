"""From what was sent and what the watcher saw to figures: fulfilment times, percentiles, verdicts.

An order is **fulfilled** at the latest of: the saga's ConfirmOrder (sent as it enters
AWAITING_DISPATCH: stock reserved, shipment created), ordering's OrderConfirmed, and the moment storefront's database shows every
book of the order at the stock version the reservation produced (when the watcher can read that
database). Latency "POST -> fulfilled" runs from the moment POST /orders returned.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from .loadgen import Sent
from .watcher import Tracker


def pct(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def spread(values: Iterable[float | None]) -> dict[str, float | None]:
    """Median, min and max over runs (None entries skipped)."""
    kept = [v for v in values if v is not None]
    if not kept:
        return {"median": None, "min": None, "max": None}
    return {
        "median": round(statistics.median(kept), 1),
        "min": round(min(kept), 1),
        "max": round(max(kept), 1),
    }


def fulfilled_at(tracker: Tracker, sent: Sent) -> float | None:
    """When ``sent``'s order was fulfilled (see the module doc), or None if it is not (yet)."""
    if sent.order_id is None:
        return None
    saga = tracker.saga.get(sent.order_id, {}).get("AWAITING_DISPATCH")
    confirmed = tracker.orders.get(sent.order_id, {}).get("OrderConfirmed")
    if saga is None or confirmed is None:
        return None
    moment = max(saga, confirmed)
    if tracker.checks_storefront:
        levels = tracker.ilc.get(sent.corr, [])
        if len({book for book, _ in levels}) < len(sent.books):
            return None
        for book, version in levels:
            shown = tracker.storefront_at(book, version)
            if shown is None:
                return None
            moment = max(moment, shown)
    return moment


def settled_at(tracker: Tracker, sent: Sent) -> tuple[float | None, str | None]:
    """When the order reached an end of the saga's wait: confirmed and shipped-to-be, or cancelled."""
    if sent.order_id is None:
        return None, None
    saga = tracker.saga.get(sent.order_id, {})
    order = tracker.orders.get(sent.order_id, {})
    if "AWAITING_DISPATCH" in saga and "OrderConfirmed" in order:
        return max(saga["AWAITING_DISPATCH"], order["OrderConfirmed"]), "CONFIRMED"
    if "CANCELLED" in saga and "OrderCancelled" in order:
        return max(saga["CANCELLED"], order["OrderCancelled"]), "CANCELLED"
    return None, None


def step_figures(
    sent: Sequence[Sent], tracker: Tracker, rate: float, duration: float, reads: Sequence[Sent] = ()
) -> dict[str, Any]:
    """Throughput, latencies and errors of one open-loop step."""
    accepted = [s for s in sent if s.status == 201]
    done = [(s, fulfilled_at(tracker, s)) for s in accepted]
    fulfilled = [(s, t) for s, t in done if t is not None]
    latencies = [max(0.0, t - s.done) for s, t in fulfilled]
    t0 = sent[0].intended if sent else 0.0
    window = (t0 + duration / 4, t0 + duration)
    in_window = sum(1 for _, t in fulfilled if window[0] <= t < window[1])
    post = [s.done - s.started for s in sent if s.status]
    get = [s.done - s.started for s in reads if s.status == 200]
    return {
        "rate": rate,
        "seconds": duration,
        "sent": len(sent),
        "accepted": len(accepted),
        "errors": {
            str(code): sum(1 for s in sent if s.status == code) for code in {s.status for s in sent} - {201}
        },
        "fulfilled": len(fulfilled),
        "unfulfilled": len(accepted) - len(fulfilled),
        "fulfilled_per_s": round(in_window / (window[1] - window[0]), 1),
        "latency_ms": {f"p{q}": ms(pct(latencies, q)) for q in (50, 95, 99)}
        | {"max": ms(max(latencies, default=None))},
        "post_orders_ms": {f"p{q}": ms(pct(post, q)) for q in (50, 99)},
        "get_storefront_ms": {f"p{q}": ms(pct(get, q)) for q in (50, 99)} | {"count": len(get)},
        "send_lag_p99_ms": ms(pct([s.lag for s in sent], 99)),
    }


def passed(figures: dict[str, Any], slo_p99_s: float) -> bool:
    """A step is sustained when nearly nothing failed, everything was fulfilled, the p99 stayed under
    the SLO and completions kept pace with the offered rate."""
    sent = figures["sent"] or 1
    errors = sum(figures["errors"].values())
    p99 = figures["latency_ms"]["p99"]
    return (
        errors / sent <= 0.005
        and figures["unfulfilled"] == 0
        and p99 is not None
        and p99 <= slo_p99_s * 1000
        and figures["fulfilled_per_s"] >= 0.9 * figures["rate"]
    )
