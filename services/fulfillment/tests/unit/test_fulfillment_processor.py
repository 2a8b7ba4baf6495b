"""The processor's order of work (send, then write) and the deadline index, with in-memory fakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from bookshelf_fulfillment.adapters.deadlines import DeadlineIndex
from bookshelf_fulfillment.adapters.records import OutgoingRecord
from bookshelf_fulfillment.domain.state import SagaState, SagaStatus
from bookshelf_fulfillment.service_layer.processor import SagaProcessor

S = SagaStatus


class FakeStore:
    def __init__(self, journal: list[str]) -> None:
        self.rows: dict[str, SagaState] = {}
        self.journal = journal

    def get(self, key: str) -> SagaState | None:
        return self.rows.get(key)

    def put(self, key: str, state: SagaState) -> None:
        self.journal.append(f"write {state.state.value}")
        self.rows[key] = state


class FakeSender:
    def __init__(self, journal: list[str], fail: bool = False) -> None:
        self.sent: list[OutgoingRecord] = []
        self.journal = journal
        self.fail = fail

    async def send_all(self, records: Sequence[OutgoingRecord]) -> None:
        if self.fail:
            raise ConnectionError("broker gone")
        self.journal.extend(f"send {r.topic}" for r in records)
        self.sent.extend(records)


@pytest.fixture
def journal() -> list[str]:
    return []


def _processor(journal: list[str], store: FakeStore | None = None, fail: bool = False) -> SagaProcessor:
    clock = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i) for i in range(1000))
    return SagaProcessor(store or FakeStore(journal), FakeSender(journal, fail), clock=lambda: next(clock))


async def test_commands_are_acknowledged_before_the_table_is_written(saga, journal) -> None:
    processor = _processor(journal)

    await processor.handle(saga.incoming(saga.placed()))
    await processor.handle(saga.incoming(saga.reserved()))

    assert journal == [
        "send inventory.commands",
        "write AWAITING_STOCK",
        "send ordering.commands",
        "send shipping.commands",
        "write AWAITING_SHIPMENT",
    ]


async def test_a_failed_send_leaves_the_state_as_it_was(saga, journal) -> None:
    store = FakeStore(journal)
    await _processor(journal, store).handle(saga.incoming(saga.placed()))

    with pytest.raises(ConnectionError):
        await _processor(journal, store, fail=True).handle(saga.incoming(saga.reserved()))

    assert store.rows[str(saga.order_id)].state is S.AWAITING_STOCK


async def test_a_crash_after_send_resends_the_same_ids_and_a_crash_after_write_sends_nothing(
    saga, journal
) -> None:
    store = FakeStore(journal)
    await _processor(journal, store).handle(saga.incoming(saga.placed()))
    reserved = saga.incoming(saga.reserved())
    before = store.rows[str(saga.order_id)]

    first = _processor(journal, store)
    await first.handle(reserved)
    store.rows[str(saga.order_id)] = before  # "crashed before the write reached the changelog"
    second = _processor(journal, store)
    await second.handle(reserved)  # redelivered
    third = _processor(journal, store)
    decision = await third.handle(reserved)  # redelivered once more, after the write

    ids = [sender.sent for sender in (first.sender, second.sender)]  # type: ignore[attr-defined]
    assert [r.headers for r in ids[0]] == [r.headers for r in ids[1]]
    assert decision.commands == ()
    assert third.sender.sent == []  # type: ignore[attr-defined]


async def test_the_processor_keeps_the_deadline_index_up_to_date(saga, journal) -> None:
    index = DeadlineIndex()
    processor = SagaProcessor(FakeStore(journal), FakeSender(journal), index)

    await processor.handle(saga.incoming(saga.placed()))
    assert len(index) == 1
    await processor.handle(saga.incoming(saga.reservation_failed()))
    assert len(index) == 0


def test_the_index_emits_due_deadlines_once_then_again_after_the_resend_delay(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    index = DeadlineIndex(resend_after_s=30)
    key, state = str(saga.order_id), saga.current
    index.track(key, state)
    assert state.deadline is not None

    assert index.due(state.deadline - timedelta(seconds=1), clock=100.0) == []
    assert index.due(state.deadline, clock=100.0) == [key]
    assert index.due(state.deadline, clock=110.0) == []
    assert index.due(state.deadline, clock=131.0) == [key]


def test_rebuilding_the_index_keeps_what_was_emitted_and_drops_what_moved_on(saga) -> None:
    saga.advance_to(S.AWAITING_STOCK)
    index = DeadlineIndex(resend_after_s=30)
    key, waiting = str(saga.order_id), saga.current
    index.track(key, waiting)
    assert waiting.deadline is not None
    index.due(waiting.deadline, clock=100.0)

    index.rebuild([(key, waiting)])
    assert index.due(waiting.deadline, clock=101.0) == []  # still marked as emitted

    saga.feed(saga.reserved())
    saga.feed(saga.created())
    index.rebuild([(key, saga.current)])
    assert len(index) == 0
