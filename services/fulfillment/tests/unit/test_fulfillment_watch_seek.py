"""The worker's watchdog tick against a fake consumer: a stalled input partition is sought back to its
committed offset, counted, and its next record may move the offset progress again."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.adapters.progress import OffsetProgress
from bookshelf_fulfillment.adapters.watchdog import StallWatchdog
from bookshelf_fulfillment.entrypoints.worker import SagaWorker
from faust.types import TP

STUCK, FINE, OTHER = TP("shipping.shipments", 1), TP("ordering.orders", 1), TP("saga-__assignor-__leader", 0)


class FakeConsumer:
    flow_active = True

    def __init__(self) -> None:
        self.sought: list[tuple[TP, int]] = []

    def assignment(self) -> set[TP]:
        return {STUCK, FINE, OTHER}

    def highwater(self, tp: TP) -> int:
        return {STUCK: 20, FINE: 9, OTHER: 1}[tp]

    async def seek(self, tp: TP, offset: int) -> None:
        self.sought.append((tp, offset))


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(SagaWorker, "consuming", property(lambda self: True))
    progress = OffsetProgress()
    progress.sought(STUCK, 7, committed=7)  # records 7..19 wait; 8..19 arrived, 7 never did
    progress.sought(FINE, 9, committed=9)  # caught up
    worker: Any = object.__new__(SagaWorker)
    worker.app = SimpleNamespace(consumer=FakeConsumer())
    worker.progress = progress
    worker.agent = SimpleNamespace(idle=True)
    worker.watchdog = StallWatchdog(stall_s=0)
    return worker


async def test_a_stalled_partition_is_sought_back_to_its_committed_offset(worker: Any) -> None:
    before = metrics.WATCHDOG_RESEEKS.labels("shipping.shipments")._value.get()
    for offset in range(8, 20):
        worker.progress.handled(STUCK, offset)  # handled, but above the hole: the offset stays at 7

    await worker.watch()  # first look: the clock starts
    await worker.watch()  # stall_s later (0 here): re-seek

    assert worker.app.consumer.sought == [(STUCK, 7)]
    assert metrics.WATCHDOG_RESEEKS.labels("shipping.shipments")._value.get() == before + 1
    assert worker.progress.handled(STUCK, 7)  # the missing record, read again, moves the offset
    for offset in range(8, 20):
        worker.progress.handled(STUCK, offset)  # the repeats (inbox duplicates) follow it
    assert worker.progress.due() == {("shipping.shipments", 1): 20}


async def test_a_busy_agent_is_never_sought_under(worker: Any) -> None:
    worker.agent = SimpleNamespace(idle=False)

    await worker.watch()
    await worker.watch()

    assert worker.app.consumer.sought == []
