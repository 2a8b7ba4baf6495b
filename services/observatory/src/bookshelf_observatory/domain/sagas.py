"""Saga instances by state and the stuck ones: past their deadline in a state that has one.

docs/domain.md: only AWAITING_STOCK and AWAITING_SHIPMENT have a deadline (``FULFILLMENT_TIMEOUT_S``); the
worker's timer cancels such an instance when it passes. One still there after its deadline is stuck
(the worker is down, lagging, or its timer is broken).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

DEADLINE_STATES = ("AWAITING_STOCK", "AWAITING_SHIPMENT")
STATE_ORDER = (
    "AWAITING_STOCK",
    "AWAITING_SHIPMENT",
    "AWAITING_DISPATCH",
    "CANCELLING",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
)


def _deadline(instance: dict[str, Any]) -> datetime | None:
    raw = instance.get("deadline")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_stuck(instance: dict[str, Any], now: datetime) -> bool:
    """In a deadline state with its deadline passed."""
    deadline = _deadline(instance)
    return instance.get("state") in DEADLINE_STATES and deadline is not None and deadline < now


def summarize(instances: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """``{"by_state": [{state, count}], "stuck": [instance + overdue_s], "total"}``."""
    counts = Counter(str(i.get("state", "?")) for i in instances)
    ordered = [s for s in STATE_ORDER if s in counts] + sorted(set(counts) - set(STATE_ORDER))
    stuck = []
    for instance in instances:
        if is_stuck(instance, now):
            deadline = _deadline(instance)
            assert deadline is not None
            stuck.append({**instance, "overdue_s": round((now - deadline).total_seconds(), 1)})
    stuck.sort(key=lambda i: -float(i["overdue_s"]))
    return {
        "total": len(instances),
        "by_state": [{"state": s, "count": counts[s]} for s in ordered],
        "stuck": stuck,
    }


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def by_state(states: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The states that have instances, in saga order: ``{state, count, oldest}`` where ``oldest`` is
    ``{order_id, created_at, updated_at, age_s}`` of the instance created first (``age_s`` since its
    creation), or None when the worker did not return it."""
    rows = []
    for entry in states:
        if not entry.get("count"):
            continue
        oldest = entry.get("oldest") or None
        view = None
        if isinstance(oldest, dict):
            created = _time(oldest.get("created_at"))
            view = {
                "order_id": str(oldest.get("order_id", "")),
                "created_at": oldest.get("created_at"),
                "updated_at": oldest.get("updated_at"),
                "age_s": round((now - created).total_seconds(), 1) if created else None,
            }
        rows.append({"state": str(entry["state"]), "count": int(entry["count"]), "oldest": view})
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r["state"], len(rank)), r["state"]))
