"""The lag sampler: every slot of the charts (5 s), the lag of every consumer group goes into the index
database, where the lag chart reads it back (so it survives a restart of the observatory)."""

from __future__ import annotations

from bookshelf_observatory.entrypoints.periodic import Periodic
from bookshelf_observatory.service_layer.charts import Charts
from bookshelf_observatory.service_layer.observatory import Observatory


class LagSampler(Periodic):
    """Samples lag per group into ``lag_samples`` once per chart slot until ``stop()`` (a failed
    sample, with the broker or the database away, is a gap in the chart)."""

    event = "sampler"

    def __init__(self, observatory: Observatory, charts: Charts) -> None:
        super().__init__(charts.step_s)
        self.observatory = observatory
        self.charts = charts

    async def tick(self) -> None:
        """Record the lag of every group now."""
        await self.charts.record_lag(await self.observatory.lag())
