"""The observatory's use cases: trace, overview (health, throughput, lag, outbox, DLQ), dead letters, sagas."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from bookshelf_messaging import REPLAY_LIMIT, DeadLetterStore, KafkaSettings
from bookshelf_messaging.dlq_store import dlq_topic_name
from bookshelf_servicekit import Conflict, NotFound
from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_observatory.config import ObservatorySettings
from bookshelf_observatory.domain.lag import group_lag
from bookshelf_observatory.domain.sagas import by_state, summarize
from bookshelf_observatory.domain.trace import Trace, build_trace
from bookshelf_observatory.service_layer.ports import ConsumerGroups, IndexQueries, IndexWriter, Probes
from bookshelf_observatory.service_layer.views import dead_letter_detail, dead_letter_summary

LAG_CACHE_S = 2.0


class TraceNotFound(NotFound):
    """No indexed message has this correlation id, nor this key."""


@dataclass
class Observatory:
    """Everything the routes ask for, over the index database, the broker and the services."""

    engine: AsyncEngine
    kafka: KafkaSettings
    settings: ObservatorySettings
    store: DeadLetterStore
    queries: IndexQueries
    writer: IndexWriter
    probes: Probes
    groups: ConsumerGroups
    _lag: tuple[float, list[dict[str, Any]]] = field(default=(0.0, []))

    def client(self) -> httpx.AsyncClient:
        """An HTTP client for probing the services (short timeouts: a dead service must not stall pages)."""
        # The staff token: fulfillment's /fulfillments views are STAFF.
        token = self.settings.secret("admin_token")
        return httpx.AsyncClient(
            timeout=self.settings.probe_timeout_s, headers={"Authorization": f"Bearer {token}"}
        )

    async def trace(self, query: str) -> Trace:
        """The causation forest of a correlation id or of an order id (any record key)."""
        async with self.engine.connect() as conn:
            ids = await self.queries.correlation_ids_for(conn, query)
            if not ids:
                raise TraceNotFound(
                    f"no indexed message has correlation id or key {query!r} (the index may still be "
                    "catching up; `bookshelf trace` scans the topics when the observatory is down)"
                )
            messages, letters = await self.queries.trace_rows(conn, ids)
        return build_trace(query, ids, messages, letters)

    async def lag(self) -> list[dict[str, Any]]:
        """Lag per consumer group and topic (cached for a moment: the overview polls it)."""
        cached_at, rows = self._lag
        if time.monotonic() - cached_at < LAG_CACHE_S:
            return rows
        committed = await asyncio.to_thread(self.groups.committed_offsets, self.kafka)
        async with self.engine.connect() as conn:
            highs = await self.queries.high_watermarks(conn)
            coordinates = [(t, p, o) for offsets in committed.values() for (t, p), o in offsets.items()]
            times = await self.queries.record_times(conn, coordinates)
        now = datetime.now(UTC)
        rows = [
            row.to_dict()
            for group, offsets in sorted(committed.items())
            for row in group_lag(group, offsets, highs, times, now)
        ]
        self._lag = (time.monotonic(), rows)
        return rows

    async def overview(self) -> dict[str, Any]:
        """Health, throughput, lag, outbox backlog, DLQ depth and recent failures in one document."""
        urls = self.settings.service_urls()
        async with self.client() as client:
            health, outboxes, lag = await asyncio.gather(
                self.probes.all_health(client, urls),
                self.probes.all_outboxes(client, urls, self.settings.service_database_urls()),
                self._lag_or_error(),
            )
        async with self.engine.connect() as conn:
            throughput = await self.queries.throughput(conn)
            depth = await self.queries.dlq_depth(conn)
            recent = await self.queries.list_dead_letters(conn, open_only=False, limit=10)
        return {
            "generated_at": datetime.now(UTC),
            "services": health,
            "throughput": throughput,
            "lag": lag,
            "outbox": outboxes,
            "dlq_depth": [{"dlq_topic": t, "open": n} for t, n in sorted(depth.items())],
            "recent_failures": [dead_letter_summary(d) for d in recent],
        }

    async def _lag_or_error(self) -> dict[str, Any]:
        try:
            return {"groups": await self.lag(), "error": ""}
        except Exception as exc:  # the broker is away: show it, keep the rest of the page
            return {"groups": [], "error": f"{type(exc).__name__}: {exc}"}

    async def dead_letters(self, topic: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Open dead letters, newest first."""
        async with self.engine.connect() as conn:
            letters = await self.queries.list_dead_letters(conn, topic=topic, limit=limit)
        return [dead_letter_summary(d) for d in letters]

    async def dead_letter(self, entry_id: str) -> dict[str, Any]:
        """One entry with stack trace and payload (open or closed)."""
        async with self.engine.connect() as conn:
            letter = await self.queries.get_dead_letter(conn, entry_id)
        if letter is None:
            raise NotFound(f"no dead letter {entry_id!r} in the index")
        return dead_letter_detail(letter)

    async def replay(
        self, entry_id: str, max_replays: int = REPLAY_LIMIT, *, from_original: bool = False
    ) -> dict[str, Any]:
        """Re-publish an open entry to its original topic and close it (``DeadLetterStore.replay``, or
        ``replay_from_original`` for a cut entry)."""
        entry = await self._open_entry(entry_id)
        replay = self.store.replay_from_original if from_original else self.store.replay
        await asyncio.to_thread(replay, entry_id, topic=entry["dlq_topic"], max_replays=max_replays)
        await self._closed([entry_id], "replay")
        return {**entry, "open": False, "action": "replayed"}

    async def purge(self, entry_id: str) -> dict[str, Any]:
        """Close an open entry without replaying it."""
        entry = await self._open_entry(entry_id)
        await asyncio.to_thread(self.store.close, entry_id, topic=entry["dlq_topic"])
        await self._closed([entry_id], "purge")
        return {**entry, "open": False, "action": "purged"}

    async def purge_topic(self, topic: str, entry_ids: list[str] | None = None) -> dict[str, Any]:
        """Close exactly ``entry_ids`` of a topic's DLQ (those still open), by default the entries the
        index shows open now: never a dead letter that arrived after staff saw the list."""
        dlq_topic = dlq_topic_name(topic)
        if entry_ids is None:
            entry_ids = [d["entry_id"] for d in await self.dead_letters(dlq_topic, limit=100_000)]
        closed = await asyncio.to_thread(self.store.close_ids, dlq_topic, entry_ids)
        await self._closed([e.entry_id for e in closed], "purge")
        return {"topic": dlq_topic, "closed": len(closed)}

    async def _open_entry(self, entry_id: str) -> dict[str, Any]:
        entry = await self.dead_letter(entry_id)
        if not entry["open"]:
            raise Conflict(f"dead letter {entry_id} is already closed ({entry['closed_at']}); nothing to do")
        return entry

    async def _closed(self, entry_ids: list[str], by: str) -> None:
        async with self.engine.begin() as conn:
            await self.writer.mark_closed(conn, entry_ids, by)

    async def sagas(self, state: str | None = None) -> dict[str, Any]:
        """Saga instances by state (count and oldest instance) and the stuck ones, from the fulfillment
        worker's API (SQL-backed: counts per state come from the database, not from the pages read)."""
        url = self.settings.service_urls().get("fulfillment", "")
        now = datetime.now(UTC)
        try:
            async with self.client() as client:
                states, overdue, instances = await asyncio.gather(
                    self.probes.saga_states(client, url),
                    self.probes.overdue_sagas(client, url, now.isoformat()),
                    self.probes.saga_instances(client, url, state),
                )
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return {
                "available": False,
                "url": url,
                "error": f"{type(exc).__name__}: {exc}",
                "total": 0,
                "by_state": [],
                "stuck": [],
                "instances": [],
            }
        summary = summarize(overdue, now)
        summary["by_state"] = by_state(states, now)
        summary["total"] = sum(int(s["count"]) for s in states)
        return {"available": True, "url": url, "error": "", **summary, "instances": instances[:200]}
