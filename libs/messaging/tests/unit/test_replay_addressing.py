"""A replayed dead letter is handled only by the group it is addressed to (``dlq.replay_group``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_messaging.dlq import H_REPLAY_GROUP, Failure
from bookshelf_messaging.policy import RetryPolicy
from prometheus_client import REGISTRY


@dataclass
class Rec:
    offset: int
    headers: list[tuple[str, bytes]]
    topic: str = "replay.t"
    partition: int = 0
    key: bytes | None = b"k"
    value: bytes | None = b"{not json"  # poison: dead-lettered wherever it is handled


@dataclass
class Letters:
    written: list[int] = field(default_factory=list)

    async def __call__(self, record: Any, failure: Failure) -> str:
        self.written.append(record.offset)
        return "id"


def _outcome(group: str, outcome: str) -> float:
    labels = {"group": group, "topic": "replay.t", "outcome": outcome}
    return REGISTRY.get_sample_value("bookshelf_consumer_messages_total", labels) or 0.0


async def test_only_the_addressed_group_handles_a_replay() -> None:
    letters = Letters()
    no_database: Any = None  # nothing here reaches a handler
    processor = PartitionProcessor("replay.g", {}, no_database, letters, RetryPolicy())
    before = _outcome("replay.g", "replay_for_other_group")

    await processor.process(
        [
            Rec(0, [(H_REPLAY_GROUP, b"replay.other")]),  # another group's replay: skipped
            Rec(1, [(H_REPLAY_GROUP, b"replay.g")]),  # ours: handled (here: dead-lettered again)
            Rec(2, []),  # not a replay: every group handles it
        ]
    )

    assert letters.written == [1, 2]
    assert _outcome("replay.g", "replay_for_other_group") - before == 1
