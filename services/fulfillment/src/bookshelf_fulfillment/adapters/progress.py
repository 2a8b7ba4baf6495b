"""Which input offsets are safe to commit: only those below every record whose transaction committed.

faust commits the offsets of events its streams acknowledged, and in 0.15 it acknowledges events it
never delivered (records skipped while the flow is stopped or from an older generation) and commits
over a missing record just above the committed offset. The worker therefore keeps, per input
partition, the offset below which *every* record was handled in a committed PostgreSQL transaction
(``done``), and the commit is clamped to it (``adapters/kafka.py``). A record that arrives above
``done`` (its predecessors were dropped on the way) is handled (the inbox makes that harmless) but
does not move ``done``: the committed offset stops there, and the watchdog re-reads from it. The
worker also commits ``done`` itself (``due``), so progress never waits for faust's own bookkeeping.

Positions are learnt from faust's seeks: after a seek to offset ``n`` the consumer reads ``n`` next.
Right after a watchdog seek (the agent idle, so nothing older is queued) the first record read may
lie above ``done`` when the log has a real gap there; it is then accepted and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TP = tuple[str, int]


def _key(tp: Any) -> TP:
    return (str(tp[0]), int(tp[1]))


class OffsetProgress:
    """Per input partition: ``done`` (every record below it handled) and the offset last committed."""

    def __init__(self) -> None:
        self._done: dict[TP, int] = {}
        self._committed: dict[TP, int | None] = {}
        self._fresh_seek: set[TP] = set()
        self.gaps_accepted = 0

    def sought(self, tp: Any, offset: int, *, committed: int | None = None, fresh: bool = False) -> None:
        """The consumer reads ``tp`` from ``offset`` next (faust's seek to the committed offsets, or the
        watchdog's with ``fresh``). ``committed`` is the group's committed offset, when it was read."""
        key = _key(tp)
        current = self._done.get(key)
        self._done[key] = offset if current is None else max(current, offset)
        if committed is not None or key not in self._committed:
            self._committed[key] = committed
        if fresh:
            self._fresh_seek.add(key)

    def handled(self, tp: Any, offset: int) -> bool:
        """A record's transaction committed; returns whether ``done`` moved (False: a repeat or a hole)."""
        key = _key(tp)
        done = self._done.get(key)
        if done is None:
            return False  # no known position yet: wait for a seek
        fresh = key in self._fresh_seek
        self._fresh_seek.discard(key)
        if offset == done or (fresh and offset > done):
            if offset > done:
                self.gaps_accepted += 1
            self._done[key] = offset + 1
            return True
        return False

    def done(self, tp: Any) -> int | None:
        """The offset below which every record of ``tp`` was handled (None: position unknown)."""
        return self._done.get(_key(tp))

    def committed(self, tp: Any) -> int | None:
        """The offset last committed for ``tp`` by this worker (or read at the last seek)."""
        return self._committed.get(_key(tp))

    def clamp(self, offsets: Mapping[Any, int]) -> dict[Any, int]:
        """The commits allowed out of ``offsets``: each at most ``done``, and only when it moves."""
        allowed: dict[Any, int] = {}
        for tp, offset in offsets.items():
            done = self._done.get(_key(tp))
            if done is None:
                continue
            target = min(offset, done)
            previous = self._committed.get(_key(tp))
            if previous is None or target > previous:
                allowed[tp] = target
        return allowed

    def due(self) -> dict[TP, int]:
        """Commits to make now: ``done`` of every partition where it is ahead of the last commit."""
        return self.clamp(dict(self._done))

    def mark_committed(self, offsets: Mapping[Any, int]) -> None:
        """Record commits the broker accepted."""
        for tp, offset in offsets.items():
            self._committed[_key(tp)] = offset

    def forget(self, tps: Iterable[Any]) -> None:
        """Drop partitions this worker no longer owns."""
        for tp in tps:
            key = _key(tp)
            self._done.pop(key, None)
            self._committed.pop(key, None)
            self._fresh_seek.discard(key)
