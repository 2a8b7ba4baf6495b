"""The adaptive fetch wait: short while records flow, long after a quiet spell, short again at once."""

from __future__ import annotations

from types import SimpleNamespace

from bookshelf_messaging._fetch_wait import AdaptiveFetchWait


def consumer(wait_ms: int = 10) -> SimpleNamespace:
    return SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=wait_ms))


def test_a_quiet_consumer_slows_down_and_the_first_records_speed_it_up() -> None:
    c = consumer()
    wait = AdaptiveFetchWait(c, busy_ms=10, idle_ms=100, quiet_after_s=2.0)
    assert wait.observe(False, now=0.0) == 10
    assert wait.observe(False, now=1.9) == 10
    assert wait.observe(False, now=2.0) == 100
    assert c._fetcher._fetch_max_wait_ms == 100
    assert wait.observe(True, now=2.5) == 10
    assert c._fetcher._fetch_max_wait_ms == 10
    assert wait.observe(False, now=4.0) == 10  # quiet for 1.5 s only


def test_records_keep_it_busy_and_equal_waits_never_adapt() -> None:
    c = consumer()
    wait = AdaptiveFetchWait(c, busy_ms=10, idle_ms=10, quiet_after_s=0.5)
    for second in range(10):
        assert wait.observe(second % 3 == 0, now=float(second)) == 10


def test_a_consumer_not_started_yet_is_left_alone() -> None:
    wait = AdaptiveFetchWait(SimpleNamespace(_fetcher=None), busy_ms=10, idle_ms=100, quiet_after_s=0.0)
    assert wait.observe(False, now=5.0) == 10
