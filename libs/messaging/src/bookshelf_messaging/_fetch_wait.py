"""Adaptive fetch wait: short while records flow, longer after a quiet spell.

The embedded broker answers an empty fetch only when its wait runs out, and each waiting fetch costs
it CPU: measured with every service of `make run` idle, the broker alone burned 105 % of a core at a
10 ms wait, 78 % at 50 ms and 32 % at 200 ms (docs/benchmarks.md). A consumer that has seen no record
for ``quiet_after_s`` therefore asks with ``idle_ms``; the first fetch that returns records puts it
back on ``busy_ms``. The price is the first record after a quiet spell, which waits up to ``idle_ms``.

aiokafka reads the wait from its fetcher for every request, but has no public setter: this sets the
fetcher's attribute and does nothing if a future aiokafka renames it.
"""

from __future__ import annotations

from typing import Any


class AdaptiveFetchWait:
    """Switches one aiokafka consumer between a busy and an idle fetch wait."""

    def __init__(self, consumer: Any, *, busy_ms: int, idle_ms: int, quiet_after_s: float) -> None:
        self.consumer = consumer
        self.busy_ms = busy_ms
        self.idle_ms = max(idle_ms, busy_ms)
        self.quiet_after_s = quiet_after_s
        self.current_ms = busy_ms
        self._last_records_at: float | None = None

    def observe(self, got_records: bool, now: float) -> int:
        """Record one fetch round's outcome at monotonic time ``now``; returns the wait now in force."""
        if self._last_records_at is None or got_records:
            self._last_records_at = now
        quiet = now - self._last_records_at >= self.quiet_after_s
        wanted = self.idle_ms if quiet else self.busy_ms
        if wanted != self.current_ms:
            self._apply(wanted)
        return self.current_ms

    def _apply(self, wait_ms: int) -> None:
        fetcher = getattr(self.consumer, "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            fetcher._fetch_max_wait_ms = wait_ms
            self.current_ms = wait_ms
