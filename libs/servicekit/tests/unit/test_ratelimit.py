"""The per-client token bucket: bursts, refill over time, separate clients, bounded memory, off."""

from __future__ import annotations

import pytest
from bookshelf_servicekit.ratelimit import RateLimited, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_refill_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.headers == {"Retry-After": "1"}
    limiter.check("b")  # another client has its own bucket
    clock.now += 1.0  # 60 per minute: one token per second
    limiter.check("a")
    with pytest.raises(RateLimited):
        limiter.check("a")
    clock.now += 3600
    for _ in range(3):  # refills up to the burst, not beyond
        limiter.check("a")
    with pytest.raises(RateLimited):
        limiter.check("a")


def test_zero_switches_it_off_and_memory_is_bounded() -> None:
    off = RateLimiter(per_minute=0, burst=1)
    assert not off.enabled
    for _ in range(100):
        off.check("a")
    small = RateLimiter(per_minute=1, burst=1, max_clients=2)
    for client in ("a", "b", "c"):
        small.check(client)
    assert list(small._buckets) == ["b", "c"]
