"""The lag sampler: every slot of the charts (5 s), the lag of every consumer group goes into the index
database, where the lag chart reads it back (so it survives a restart of the observatory)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from bookshelf_observatory.service_layer.charts import Charts
from bookshelf_observatory.service_layer.observatory import Observatory

log = structlog.get_logger("bookshelf.observatory.sampler")


class LagSampler:
    """Samples lag per group into ``lag_samples`` until ``stop()``."""

    def __init__(self, observatory: Observatory, charts: Charts) -> None:
        self.observatory = observatory
        self.charts = charts
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End the loop."""
        self._stop.set()

    async def run(self) -> None:
        """Sample now, then once per slot."""
        while not self._stop.is_set():
            try:
                await self.charts.record_lag(await self.observatory.lag())
            except Exception as exc:  # the broker or the database is away: a gap in the chart
                log.warning("sampler.failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.charts.step_s)
