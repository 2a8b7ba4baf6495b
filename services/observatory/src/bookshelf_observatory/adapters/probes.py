"""What the observatory asks the services over HTTP (and their databases, when it may).

- health: each service's ``/readyz`` (200 ready, 503 with the failing checks, or unreachable);
- outbox backlog: ``outbox_stats`` on a service database whose ``<PREFIX>_DATABASE_URL`` is set, else
  the relay's gauges on the service's ``/metrics``;
- sagas: the fulfillment worker's ``GET /fulfillments`` (instances are in its database, so any worker
  answers for all of them: counts per state from the list's ``total``, the overdue ones with
  ``deadline_before``, the newest from the first pages, the oldest per state from the last entry).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from bookshelf_messaging import outbox_stats, to_asyncpg_dsn
from prometheus_client.parser import text_string_to_metric_families

MAX_SAGA_PAGES = 2  # the newest 200 are shown; counts come from the totals
SAGA_STATES = (
    "AWAITING_STOCK",
    "AWAITING_SHIPMENT",
    "AWAITING_DISPATCH",
    "CANCELLING",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
)


async def health(client: httpx.AsyncClient, name: str, url: str) -> dict[str, Any]:
    """``{"service", "url", "status": ready|not_ready|down, "detail"}``."""
    try:
        response = await client.get(f"{url}/readyz")
    except httpx.HTTPError as exc:
        return {"service": name, "url": url, "status": "down", "detail": f"{type(exc).__name__}: {exc}"}
    if response.status_code == 200:
        return {"service": name, "url": url, "status": "ready", "detail": ""}
    try:
        detail = str(response.json().get("detail", ""))
    except ValueError:
        detail = response.text[:200]
    return {"service": name, "url": url, "status": "not_ready", "detail": detail or str(response.status_code)}


async def all_health(client: httpx.AsyncClient, urls: dict[str, str]) -> list[dict[str, Any]]:
    """Health of every watched service, probed concurrently."""
    return list(await asyncio.gather(*(health(client, name, url) for name, url in urls.items())))


def outbox_from_metrics(text: str) -> tuple[int, float | None] | None:
    """``(backlog, oldest age s)`` from the relay gauges in a ``/metrics`` body, or None without them."""
    backlog: float | None = None
    age: float | None = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "bookshelf_outbox_backlog":
                backlog = (backlog or 0) + sample.value
            elif sample.name == "bookshelf_outbox_oldest_unpublished_age_seconds":
                age = max(age or 0.0, sample.value)
    if backlog is None:
        return None
    return int(backlog), age if backlog else None


async def outbox_via_database(url: str) -> tuple[int, float | None]:
    """``outbox_stats`` on a service database."""
    import asyncpg

    conn = await asyncpg.connect(to_asyncpg_dsn(url), timeout=3)
    try:
        return await outbox_stats(conn)
    finally:
        await conn.close()


async def outbox(
    client: httpx.AsyncClient, name: str, url: str, database_url: str | None
) -> dict[str, Any] | None:
    """One service's outbox backlog, or None when it has no outbox (no relay gauges, no database)."""
    try:
        if database_url:
            backlog, age = await outbox_via_database(database_url)
            source = "database"
        else:
            response = await client.get(f"{url}/metrics")
            response.raise_for_status()
            stats = outbox_from_metrics(response.text)
            if stats is None:
                return None
            (backlog, age), source = stats, "metrics"
    except Exception as exc:
        return {"service": name, "backlog": None, "oldest_age_s": None, "source": "error", "error": str(exc)}
    return {"service": name, "backlog": backlog, "oldest_age_s": age, "source": source, "error": ""}


async def all_outboxes(
    client: httpx.AsyncClient, urls: dict[str, str], database_urls: dict[str, str]
) -> list[dict[str, Any]]:
    """The outbox of every watched service that has one."""
    found = await asyncio.gather(*(outbox(client, n, u, database_urls.get(n)) for n, u in urls.items()))
    return [entry for entry in found if entry is not None]


def _entries(body: Any) -> tuple[list[dict[str, Any]], bool]:
    if isinstance(body, list):
        return body, False
    if isinstance(body, dict):
        return list(body.get("entries", [])), bool(body.get("has_next"))
    return [], False


async def saga_instances(
    client: httpx.AsyncClient, url: str, state: str | None = None
) -> list[dict[str, Any]]:
    """Every saga instance the fulfillment worker lists (``GET /fulfillments?state=``), page by page."""
    instances: list[dict[str, Any]] = []
    for page in range(MAX_SAGA_PAGES):
        params: dict[str, Any] = {"limit": 100, "offset": page * 100}
        if state:
            params["state"] = state
        response = await client.get(f"{url}/fulfillments", params=params)
        response.raise_for_status()
        entries, has_next = _entries(response.json())
        instances.extend(entries)
        if not has_next:
            break
    return instances


async def saga_states(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Per state: ``{state, count, oldest}``; the count is the list's ``total`` (counted by the database)
    and ``oldest`` the instance created first in that state, i.e. the last entry of the newest-first
    list (``offset = total - 1``), or None when the state has no instance."""

    async def one(state: str) -> dict[str, Any]:
        response = await client.get(f"{url}/fulfillments", params={"state": state, "limit": 1})
        response.raise_for_status()
        total = int(response.json()["total"])
        oldest = None
        if total:
            last = await client.get(
                f"{url}/fulfillments", params={"state": state, "limit": 1, "offset": total - 1}
            )
            last.raise_for_status()
            entries, _ = _entries(last.json())
            oldest = entries[0] if entries else None
        return {"state": state, "count": total, "oldest": oldest}

    return list(await asyncio.gather(*(one(s) for s in SAGA_STATES)))


async def overdue_sagas(
    client: httpx.AsyncClient, url: str, now: str, pages: int = 2
) -> list[dict[str, Any]]:
    """Instances whose deadline is before ``now`` (ISO-8601), most overdue pages first."""
    instances: list[dict[str, Any]] = []
    for page in range(pages):
        params: dict[str, Any] = {"deadline_before": now, "limit": 100, "offset": page * 100}
        response = await client.get(f"{url}/fulfillments", params=params)
        response.raise_for_status()
        entries, has_next = _entries(response.json())
        instances.extend(entries)
        if not has_next:
            break
    return instances
