"""A per-client token bucket for expensive public writes (``POST /orders``): 429 problem+json.

In-process and per replica: each API process limits what one client address can do through it. The
ingress is the place for a global limit across replicas (docs/security.md "Rate limit").
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


class RateLimited(Exception):
    """Too many requests from one client (429 with ``Retry-After``)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


@dataclass
class RateLimiter:
    """``per_minute`` requests per client on average with bursts up to ``burst``; 0 means no limit.

    At most ``max_clients`` buckets are kept (least recently used first out), so a flood of distinct
    addresses costs bounded memory.
    """

    per_minute: float
    burst: int
    max_clients: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    @property
    def enabled(self) -> bool:
        """False when switched off (``per_minute`` 0)."""
        return self.per_minute > 0

    def check(self, client: str) -> None:
        """Take one token of ``client``'s bucket, or raise ``RateLimited``."""
        if not self.enabled:
            return
        rate = self.per_minute / 60.0
        now = self.clock()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * rate)
        if tokens < 1.0:
            self._remember(client, tokens, now)
            raise RateLimited(
                f"too many orders from this client: at most {self.per_minute:g} per minute "
                f"(bursts of {self.burst}); try again later",
                retry_after=(1.0 - tokens) / rate,
            )
        self._remember(client, tokens - 1.0, now)

    def _remember(self, client: str, tokens: float, now: float) -> None:
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
