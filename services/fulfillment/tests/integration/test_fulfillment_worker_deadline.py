"""A deadline set before the worker dies fires after it is back: deadlines are a column, not memory."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from bookshelf_infra.testing import eventually

from .conftest import SagaSystem, envelope, placed, publish


@pytest.mark.timeout(300)
async def test_a_deadline_set_before_a_sigkill_fires_after_the_restart(saga_system: SagaSystem) -> None:
    first = saga_system.worker(FULFILLMENT_TIMEOUT_S="4")
    first.start()
    await first.wait_ready()
    order_id = uuid4()
    await publish(saga_system.bootstrap, [envelope(placed(order_id))])  # nobody answers ReserveStock

    async def waiting() -> datetime:
        [row] = await saga_system.fetch(
            "SELECT state, deadline FROM fulfillments WHERE order_id = $1", order_id
        )
        assert row["state"] == "AWAITING_STOCK"
        deadline: datetime = row["deadline"]
        return deadline

    deadline = await eventually(waiting, timeout=60, message="the saga never started")
    first.kill()
    await eventually(lambda: datetime.now(UTC) > deadline, timeout=30)  # it expires while no worker runs
    assert (await waiting()) == deadline

    second = saga_system.worker(FULFILLMENT_TIMEOUT_S="4")
    second.start()

    async def cancelled() -> bool:
        [row] = await saga_system.fetch(
            "SELECT state, cancel_reason, deadline FROM fulfillments WHERE order_id = $1", order_id
        )
        assert (row["state"], row["cancel_reason"], row["deadline"]) == ("CANCELLED", "timed out", None)
        return True

    await eventually(
        cancelled, timeout=120, interval=0.2, message=f"the deadline never fired: {second.tail()}"
    )

    async def published() -> list[str]:
        rows = await saga_system.fetch(
            "SELECT value FROM outbox WHERE key = $1 AND published_at IS NOT NULL ORDER BY id", str(order_id)
        )
        types = [bytes(r["value"]).split(b'"type":"', 1)[1].split(b'"', 1)[0].decode() for r in rows]
        assert types == ["ReserveStock", "ReleaseStock", "CancelShipment", "CancelOrder"], types
        return types

    await eventually(published, timeout=60, message="the relay never published the timeout's commands")
