"""Retention: index rows older than ``OBSERVATORY_RETENTION_HOURS`` are deleted every few minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_observatory import metrics
from bookshelf_observatory.adapters.index_writer import prune
from bookshelf_observatory.entrypoints.periodic import Periodic


class Pruner(Periodic):
    """Deletes old index rows (open dead letters are kept whatever their age) now and then every
    ``every_s`` seconds until ``stop()``."""

    event = "retention"

    def __init__(self, engine: AsyncEngine, retention_hours: float, every_s: float = 600.0) -> None:
        super().__init__(every_s)
        self.engine = engine
        self.retention = timedelta(hours=retention_hours)

    async def tick(self) -> None:
        """Delete the index rows older than the retention."""
        async with self.engine.begin() as conn:
            deleted = await prune(conn, datetime.now(UTC) - self.retention)
        metrics.PRUNED.inc(deleted)
