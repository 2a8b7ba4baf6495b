"""The stall watchdog: notices an input partition whose committed offset stopped moving.

faust 0.15 can drop records from the agent's queue when flow control resumes without seeking back
(docs/saga.md, "Watchdog"); the fetch position has then moved past records nobody handled, and the
offset progress keeps the commit below them. The watchdog looks for exactly that picture: the
committed offset of an assigned input partition has not moved for ``stall_s`` seconds, records are
waiting above it (the fetch high watermark is higher), and the agent has nothing queued or in flight.
The worker then seeks the partition back to its committed offset; re-reading is safe because the
inbox turns what was already handled into duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TP = tuple[str, int]


@dataclass(slots=True)
class _Seen:
    committed: int | None
    since: float


class StallWatchdog:
    """Decides, per input partition, when to re-seek (pure: the caller passes what it observed)."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self._seen: dict[TP, _Seen] = {}

    def stalled(
        self, tp: Any, *, committed: int | None, highwater: int | None, idle: bool, now: float
    ) -> bool:
        """Whether ``tp`` should be sought back to ``committed`` now; restarts its clock when it says so."""
        key = (str(tp[0]), int(tp[1]))
        seen = self._seen.get(key)
        if seen is None or seen.committed != committed:
            self._seen[key] = _Seen(committed, now)  # it moved: a new clock
            return False
        waiting = highwater is not None and highwater > (committed or 0)
        if not (waiting and idle) or now - seen.since < self.stall_s:
            return False
        seen.since = now  # the next re-seek of this partition after another stall_s at the earliest
        return True

    def keep_only(self, tps: Iterable[Any]) -> None:
        """Forget partitions that are no longer assigned."""
        keep = {(str(tp[0]), int(tp[1])) for tp in tps}
        for key in list(self._seen):
            if key not in keep:
                del self._seen[key]
