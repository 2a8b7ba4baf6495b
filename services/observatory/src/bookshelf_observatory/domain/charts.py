"""The dashboard's small charts: per-topic throughput and per-group lag over the last minutes, as the
aligned columns a chart draws (``x``: slot start in epoch seconds, one ``values`` list per series).

Time is cut into slots of ``step_s`` seconds. Throughput is the records whose timestamp falls in a slot,
divided by the slot length (records/s); a slot without records is 0. Lag is the records a group is
behind, summed over its topics, as sampled in that slot; a slot without a sample is None (a gap: the
observatory was not running), never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Points = Mapping[str, Mapping[int, float]]  # series name -> slot (epoch s) -> value


@dataclass(frozen=True, slots=True)
class Window:
    """The charts' time window: ``slots`` slots of ``step_s`` seconds ending with the slot of ``now_s``."""

    now_s: float
    window_s: int = 900
    step_s: int = 5

    @property
    def last_slot(self) -> int:
        """The start of the slot ``now_s`` falls in."""
        return int(self.now_s // self.step_s) * self.step_s

    def slots(self) -> list[int]:
        """Every slot start of the window, oldest first."""
        count = self.window_s // self.step_s
        return [self.last_slot - (count - 1 - i) * self.step_s for i in range(count)]

    @property
    def first_slot(self) -> int:
        """The oldest slot start."""
        return self.slots()[0]


def slot_of(epoch_s: float, step_s: int) -> int:
    """The start of the slot ``epoch_s`` falls in."""
    return int(epoch_s // step_s) * step_s


def _ranked(points: Points, limit: int) -> list[str]:
    """The busiest series first (by their sum, then name), at most ``limit``."""
    return sorted(points, key=lambda name: (-sum(points[name].values()), name))[:limit]


def throughput_chart(window: Window, counts: Points, limit: int = 8) -> dict[str, Any]:
    """Records per second per topic (the ``limit`` busiest topics of the window)."""
    slots = window.slots()
    series = [
        {
            "name": topic,
            "values": [round(counts[topic].get(s, 0) / window.step_s, 3) for s in slots],
            "total": int(sum(counts[topic].get(s, 0) for s in slots)),
        }
        for topic in _ranked(counts, limit)
    ]
    return {"unit": "records/s", "x": slots, "series": series}


def lag_chart(window: Window, samples: Points, limit: int = 10) -> dict[str, Any]:
    """Records behind per consumer group (the ``limit`` groups most behind over the window)."""
    slots = window.slots()
    series = [
        {
            "name": group,
            "values": [_or_none(samples[group].get(s)) for s in slots],
            "total": int(sum(samples[group].values())),
        }
        for group in _ranked(samples, limit)
    ]
    return {"unit": "records", "x": slots, "series": series}


def _or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def lag_per_group(rows: list[dict[str, Any]]) -> dict[str, tuple[int, float | None]]:
    """``(records, seconds)`` per group from the lag rows (one per group and topic): records summed,
    seconds the largest known age."""
    found: dict[str, tuple[int, float | None]] = {}
    for row in rows:
        records, seconds = found.get(str(row["group"]), (0, None))
        age = row.get("seconds")
        if age is not None:
            seconds = max(seconds or 0.0, float(age))
        found[str(row["group"])] = (records + int(row["records"]), seconds)
    return found
