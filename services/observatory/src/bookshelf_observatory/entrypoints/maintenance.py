"""Retention: index rows older than ``OBSERVATORY_RETENTION_HOURS`` are deleted every few minutes."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_observatory import metrics
from bookshelf_observatory.adapters.index_writer import prune

log = structlog.get_logger("bookshelf.observatory.retention")


class Pruner:
    """Deletes old index rows (open dead letters are kept whatever their age)."""

    def __init__(self, engine: AsyncEngine, retention_hours: float, every_s: float = 600.0) -> None:
        self.engine = engine
        self.retention = timedelta(hours=retention_hours)
        self.every_s = every_s
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End the loop."""
        self._stop.set()

    async def run(self) -> None:
        """Prune now, then every ``every_s`` seconds until ``stop()``."""
        while not self._stop.is_set():
            try:
                async with self.engine.begin() as conn:
                    deleted = await prune(conn, datetime.now(UTC) - self.retention)
                metrics.PRUNED.inc(deleted)
            except Exception as exc:  # the database is away: try again next round
                log.warning("retention.failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every_s)
