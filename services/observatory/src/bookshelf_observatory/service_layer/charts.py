"""The charts use case: the last ``window_s`` seconds of throughput per topic and lag per group, and
recording one lag sample per slot. Both live in the index database, so the charts survive a restart:
throughput is recomputed from the indexed records, lag is sampled (nothing else remembers it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bookshelf_observatory.domain.charts import Window, lag_chart, lag_per_group, throughput_chart


class ChartStore(Protocol):
    """Where the charts' data is (``adapters.samples``; bootstrap passes it in)."""

    async def records_per_slot(
        self, conn: AsyncConnection, since: datetime, until: datetime, step_s: int
    ) -> dict[str, dict[int, float]]:
        """Records per topic and slot."""
        ...

    async def lag_per_slot(self, conn: AsyncConnection, since: datetime) -> dict[str, dict[int, float]]:
        """Lag samples per group and slot."""
        ...

    async def write_lag(
        self, conn: AsyncConnection, at: datetime, by_group: dict[str, tuple[int, float | None]]
    ) -> None:
        """One lag sample per group for a slot."""
        ...

    async def prune_lag(self, conn: AsyncConnection, before: datetime) -> int:
        """Delete older lag samples."""
        ...


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


@dataclass
class Charts:
    """Throughput and lag over the last minutes, from the index database."""

    engine: AsyncEngine
    store: ChartStore
    window_s: int = 900
    step_s: int = 5

    def window(self, now: datetime | None = None) -> Window:
        """The window ending now."""
        return Window((now or datetime.now(UTC)).timestamp(), self.window_s, self.step_s)

    async def series(self, now: datetime | None = None) -> dict[str, Any]:
        """``{window_s, step_s, generated_at, throughput: chart, lag: chart}`` (chart: ``{unit, x,
        series: [{name, values, total}]}``)."""
        window = self.window(now)
        since, until = _at(window.first_slot), _at(window.last_slot + self.step_s)
        async with self.engine.connect() as conn:
            counts = await self.store.records_per_slot(conn, since, until, self.step_s)
            lag = await self.store.lag_per_slot(conn, since)
        return {
            "window_s": self.window_s,
            "step_s": self.step_s,
            "generated_at": datetime.now(UTC),
            "throughput": throughput_chart(window, counts),
            "lag": lag_chart(window, lag),
        }

    async def record_lag(self, rows: list[dict[str, Any]], now: datetime | None = None) -> None:
        """Store the lag rows (one per group and topic) as this slot's sample per group, and forget
        samples older than the window."""
        window = self.window(now)
        async with self.engine.begin() as conn:
            await self.store.write_lag(conn, _at(window.last_slot), lag_per_group(rows))
            await self.store.prune_lag(conn, _at(window.first_slot) - timedelta(seconds=self.step_s))
