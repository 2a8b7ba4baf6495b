"""A background task that does one round of work now and then every ``every_s`` seconds until stopped."""

from __future__ import annotations

import asyncio
import contextlib

import structlog


class Periodic:
    """Runs ``tick()`` now and then every ``every_s`` seconds until ``stop()``; a failing round is
    logged as ``<event>.failed`` and the next round tries again (the broker or database may be away)."""

    event = "periodic"

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stop = asyncio.Event()
        self._log = structlog.get_logger(f"bookshelf.observatory.{self.event}")

    async def tick(self) -> None:
        """One round of work."""
        raise NotImplementedError

    def stop(self) -> None:
        """End the loop."""
        self._stop.set()

    async def run(self) -> None:
        """Tick now, then every ``every_s`` seconds until ``stop()``."""
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # the next round tries again
                self._log.warning(f"{self.event}.failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every_s)
