"""The agent's contract with faust and the shared consumer policy, with fakes (no broker, no database):
events are acknowledged and their offsets recorded only after the batch succeeded; a failure of the
database or broker (such as a dead letter that could not be written) retries the batch, never acks it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from bookshelf_fulfillment.adapters.progress import OffsetProgress
from bookshelf_fulfillment.entrypoints.agent import SagaAgent
from bookshelf_infra.testing import eventually
from bookshelf_messaging import InfrastructureError

TOPIC = "ordering.orders"


def event(offset: int, partition: int = 0) -> Any:
    message = SimpleNamespace(
        topic=TOPIC, partition=partition, offset=offset, key=b"k", value=b"{}", headers=[("a", b"b")]
    )
    return SimpleNamespace(message=message)


class FakeStream:
    """What the agent uses of a faust stream: noack(), events(), ack(), channel."""

    def __init__(self, events: list[Any], journal: list[str]) -> None:
        self._events = events
        self.journal = journal
        self.channel = SimpleNamespace(queue=asyncio.Queue())
        self.done = asyncio.Event()

    def noack(self) -> FakeStream:
        return self

    async def events(self) -> Any:
        for item in self._events:
            yield item
        await self.done.wait()  # a stream never ends by itself

    async def ack(self, item: Any) -> None:
        self.journal.append(f"ack {item.message.offset}")


class FakeProcessor:
    def __init__(self, journal: list[str], failures: int = 0) -> None:
        self.journal = journal
        self.failures = failures

    async def process(self, records: list[Any]) -> None:
        if self.failures:
            self.failures -= 1
            self.journal.append("failed")
            raise InfrastructureError("writing dead letter to ordering.orders.dlq failed")
        self.journal.append("committed " + ",".join(str(r.offset) for r in records))


async def run_until(agent: SagaAgent, stream: FakeStream, acks: int) -> None:
    task = asyncio.create_task(agent.run(stream))
    try:
        await eventually(lambda: sum(1 for j in stream.journal if j.startswith("ack")) >= acks, timeout=5)
    finally:
        stream.done.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_events_are_acknowledged_after_their_batch_committed() -> None:
    journal: list[str] = []
    progress = OffsetProgress()
    progress.sought((TOPIC, 0), 0, committed=None)
    stream = FakeStream([event(0), event(1), event(2)], journal)
    agent = SagaAgent(FakeProcessor(journal), progress, batch_max=10)  # type: ignore[arg-type]

    await run_until(agent, stream, acks=3)

    assert journal[0].startswith("committed 0")
    assert journal.index("ack 0") > 0
    assert progress.done((TOPIC, 0)) == 3
    assert agent.idle


async def test_a_failed_batch_is_retried_and_acknowledged_only_after_it_succeeded() -> None:
    journal: list[str] = []
    progress = OffsetProgress()
    progress.sought((TOPIC, 0), 5, committed=5)
    stream = FakeStream([event(5), event(6)], journal)
    agent = SagaAgent(FakeProcessor(journal, failures=2), progress, batch_max=10, retry_after_s=0.01)  # type: ignore[arg-type]

    await run_until(agent, stream, acks=2)

    first_ack = next(i for i, j in enumerate(journal) if j.startswith("ack"))
    assert journal[:2] == ["failed", "failed"]
    assert journal[2].startswith("committed 5")
    assert first_ack > 2
    assert progress.due() == {(TOPIC, 0): 7}
