"""A revoke callback that cannot finish its commit gives up after a session timeout (no I/O).

aiokafka retries a commit for as long as the broker answers with a retriable error; after an embedded
broker restart that was forever, and the consumer never rejoined its group.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import TopicPartition
from bookshelf_messaging.consumer import ConsumerRunner, _RevokeListener
from bookshelf_messaging.settings import KafkaSettings


class StuckWorkers:
    """Partition workers whose commit never comes back."""

    def __init__(self) -> None:
        self.forgotten: list[Any] = []
        self.cancelled = False

    async def drain(self, tps: Any = None) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    def forget(self, tps: Any) -> None:
        self.forgotten.append(set(tps))


async def test_a_stuck_drain_is_abandoned_after_the_session_timeout() -> None:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1", session_timeout_ms=200)
    runner = ConsumerRunner("g", ["t"], {}, session_factory=None, kafka=kafka)  # type: ignore[arg-type]
    workers = StuckWorkers()
    runner._workers = workers  # type: ignore[assignment]
    revoked = {TopicPartition("t", 0)}

    started = time.monotonic()
    await asyncio.wait_for(_RevokeListener(runner).on_partitions_revoked(revoked), timeout=5)

    assert time.monotonic() - started < 2
    assert workers.cancelled, "the stuck drain must be cancelled, not left running"
    assert workers.forgotten == [revoked], "the revoked partitions are forgotten all the same"
