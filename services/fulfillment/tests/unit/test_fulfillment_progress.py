"""The offset progress: commits never pass a record whose transaction did not commit."""

from __future__ import annotations

from bookshelf_fulfillment.adapters.progress import OffsetProgress

TP = ("ordering.orders", 3)


def test_the_commit_follows_the_handled_records_and_never_passes_them() -> None:
    progress = OffsetProgress()
    progress.sought(TP, 10, committed=10)

    for offset in (10, 11, 12):
        assert progress.handled(TP, offset)

    assert progress.clamp({TP: 20}) == {TP: 13}  # faust acknowledged more than was handled
    assert progress.due() == {TP: 13}
    progress.mark_committed({TP: 13})
    assert progress.due() == {}
    assert progress.committed(TP) == 13


def test_a_hole_stops_the_commit_below_it_until_the_missing_record_is_handled() -> None:
    progress = OffsetProgress()
    progress.sought(TP, 0, committed=None)
    progress.handled(TP, 0)

    assert not progress.handled(TP, 2)  # offset 1 was dropped on the way
    assert not progress.handled(TP, 3)
    assert progress.done(TP) == 1
    assert progress.clamp({TP: 4}) == {TP: 1}

    progress.sought(TP, 1, fresh=True)  # the watchdog re-reads from the committed offset
    for offset in (1, 2, 3):
        assert progress.handled(TP, offset)
    assert progress.done(TP) == 4


def test_repeats_below_the_position_change_nothing() -> None:
    progress = OffsetProgress()
    progress.sought(TP, 5, committed=5)
    progress.handled(TP, 5)
    progress.handled(TP, 6)

    progress.sought(TP, 5, committed=5)  # faust seeks to the committed offset again (a rebalance)

    assert not progress.handled(TP, 5)
    assert progress.done(TP) == 7


def test_a_real_gap_is_accepted_only_right_after_a_watchdog_seek() -> None:
    progress = OffsetProgress()
    progress.sought(TP, 8, committed=8)
    assert not progress.handled(TP, 9)

    progress.sought(TP, 8, fresh=True)
    assert progress.handled(TP, 9)  # the broker has nothing at 8: the log itself has a gap there

    assert progress.done(TP) == 10
    assert progress.gaps_accepted == 1


def test_nothing_is_committed_for_a_partition_without_a_known_position() -> None:
    progress = OffsetProgress()

    assert not progress.handled(TP, 0)
    assert progress.clamp({TP: 1}) == {}


def test_revoked_partitions_are_forgotten() -> None:
    progress = OffsetProgress()
    progress.sought(TP, 4, committed=4)

    progress.forget([TP])

    assert progress.done(TP) is None
    assert progress.committed(TP) is None
