"""The stall watchdog's decision: re-seek only a committed offset stuck while records wait and the
agent has nothing to do."""

from __future__ import annotations

from bookshelf_fulfillment.adapters.watchdog import StallWatchdog

TP = ("shipping.shipments", 2)


def test_a_partition_stuck_with_records_waiting_and_an_idle_agent_is_sought_back() -> None:
    watchdog = StallWatchdog(stall_s=10)
    assert not watchdog.stalled(TP, committed=7, highwater=14, idle=True, now=100.0)
    assert not watchdog.stalled(TP, committed=7, highwater=14, idle=True, now=109.0)

    assert watchdog.stalled(TP, committed=7, highwater=14, idle=True, now=110.0)
    # once per stall period, not on every tick
    assert not watchdog.stalled(TP, committed=7, highwater=14, idle=True, now=111.0)
    assert watchdog.stalled(TP, committed=7, highwater=14, idle=True, now=120.0)


def test_a_moving_offset_restarts_the_clock() -> None:
    watchdog = StallWatchdog(stall_s=10)
    watchdog.stalled(TP, committed=7, highwater=14, idle=True, now=100.0)

    assert not watchdog.stalled(TP, committed=9, highwater=14, idle=True, now=112.0)
    assert not watchdog.stalled(TP, committed=9, highwater=14, idle=True, now=121.0)
    assert watchdog.stalled(TP, committed=9, highwater=14, idle=True, now=122.0)


def test_nothing_waiting_or_a_busy_agent_is_no_stall() -> None:
    watchdog = StallWatchdog(stall_s=10)
    watchdog.stalled(TP, committed=7, highwater=7, idle=True, now=100.0)

    assert not watchdog.stalled(TP, committed=7, highwater=7, idle=True, now=200.0)  # caught up
    assert not watchdog.stalled(TP, committed=7, highwater=None, idle=True, now=200.0)  # never fetched
    assert not watchdog.stalled(TP, committed=7, highwater=9, idle=False, now=200.0)  # still working
    assert watchdog.stalled(TP, committed=7, highwater=9, idle=True, now=200.0)


def test_a_partition_that_never_committed_counts_from_the_beginning() -> None:
    watchdog = StallWatchdog(stall_s=5)
    watchdog.stalled(TP, committed=None, highwater=3, idle=True, now=0.0)

    assert watchdog.stalled(TP, committed=None, highwater=3, idle=True, now=5.0)


def test_revoked_partitions_start_over_when_they_come_back() -> None:
    watchdog = StallWatchdog(stall_s=5)
    watchdog.stalled(TP, committed=1, highwater=3, idle=True, now=0.0)

    watchdog.keep_only([])

    assert not watchdog.stalled(TP, committed=1, highwater=3, idle=True, now=10.0)
