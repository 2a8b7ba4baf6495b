"""The end of table recovery: the flow is stopped before the inputs are sought to their committed offsets.

faust's own order (seek while the flow runs, then empty the agents' buffers) dropped the records
fetched during the seek and committed over them: orders that arrived while the worker was down never
got a saga. These tests run faust's real ``on_recovery_completed`` on an app that is never started.
"""

from __future__ import annotations

from typing import Any

import pytest
from bookshelf_fulfillment.adapters.kafka import SagaApp, SagaTableManager, _SagaRecovery
from faust.types import TP


@pytest.fixture
def app() -> Any:
    return SagaApp(
        "recovery-order-test", broker="kafka://127.0.0.1:1", store="memory://", TableManager=SagaTableManager
    )


async def test_the_saga_app_uses_the_reordered_recovery(app: Any) -> None:
    assert isinstance(app.tables.recovery, _SagaRecovery)


async def test_the_flow_is_stopped_while_the_inputs_are_sought(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer, recovery = app.consumer, app.tables.recovery
    calls: list[str] = []
    flow_during_seek: list[bool] = []
    assigned = {TP("ordering.orders", 0)}

    async def perform_seek() -> None:
        calls.append("seek")
        flow_during_seek.append(consumer.flow_active)

    async def nothing(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(consumer, "assignment", lambda: assigned)
    monkeypatch.setattr(consumer, "perform_seek", perform_seek)
    monkeypatch.setattr(consumer, "resume_partitions", lambda tps: calls.append("resume partitions"))
    monkeypatch.setattr(app.flow_control, "resume", lambda: calls.append("empty buffers"))
    monkeypatch.setattr(app._fetcher, "maybe_start", nothing)
    monkeypatch.setattr(app, "on_rebalance_end", lambda: None)
    consumer.resume_flow()  # as faust leaves it after reading the changelogs

    await recovery.on_recovery_completed(generation_id=app.consumer_generation_id)

    assert calls == ["resume partitions", "seek", "empty buffers"]
    assert flow_during_seek == [False], "records fetched during the seek would be emptied and skipped"
    assert consumer.flow_active, "the flow runs again once the seek is done"
