"""In-memory index of the deadlines of the instances this worker holds, so the timer never scans the table.

The table is the truth: the index is rebuilt from it after every rebalance (and now and then as a
safety net), and kept up to date by the agent after each write. A due instance is emitted once, and
again after ``resend_after_s`` if it is still waiting then (its deadline message was lost, or it
went to another worker's partition after a rebalance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bookshelf_fulfillment.domain.state import SagaState


@dataclass(slots=True)
class _Pending:
    deadline: datetime
    emitted_at: float | None = None


class DeadlineIndex:
    """order_id -> deadline of every instance in a state with a deadline."""

    def __init__(self, resend_after_s: float = 30.0) -> None:
        self._pending: dict[str, _Pending] = {}
        self._resend_after_s = resend_after_s

    def __len__(self) -> int:
        return len(self._pending)

    def track(self, key: str, instance: SagaState | None) -> None:
        """Follow a table write: remember the instance's deadline, or forget the key."""
        if instance is None or instance.deadline is None or not instance.state.has_deadline:
            self._pending.pop(key, None)
            return
        current = self._pending.get(key)
        if current is None or current.deadline != instance.deadline:
            self._pending[key] = _Pending(instance.deadline)

    def rebuild(self, instances: Iterable[tuple[str, SagaState]]) -> None:
        """Replace the index by the deadlines of ``instances`` (a scan of the local table)."""
        previous = self._pending
        self._pending = {}
        for key, instance in instances:
            self.track(key, instance)
            old = previous.get(key)
            if old is not None and key in self._pending and old.deadline == self._pending[key].deadline:
                self._pending[key].emitted_at = old.emitted_at

    def due(self, now: datetime, clock: float) -> list[str]:
        """Keys whose deadline passed and that were not emitted recently; marks them emitted at ``clock``."""
        keys = []
        for key, pending in self._pending.items():
            if pending.deadline > now:
                continue
            if pending.emitted_at is not None and clock - pending.emitted_at < self._resend_after_s:
                continue
            pending.emitted_at = clock
            keys.append(key)
        return keys
