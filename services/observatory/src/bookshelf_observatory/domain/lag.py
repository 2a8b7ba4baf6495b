"""Consumer lag per group and topic: fetch high watermark - committed offset (never end offsets: ListOffsets
was wrong on the memory-only broker Bookshelf used to embed, docs/adr/0001-kafka-broker-per-mode.md), and
its age in seconds: how long ago the oldest record the group has not consumed was written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookshelf_contracts.topics import BULK_SUFFIX, DLQ_SUFFIX

Partition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class GroupLag:
    """Lag of one consumer group on one topic."""

    group: str
    topic: str
    lane: str
    partitions: int
    records: int
    seconds: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "group": self.group,
            "topic": self.topic,
            "lane": self.lane,
            "partitions": self.partitions,
            "records": self.records,
            "seconds": self.seconds,
        }


def lane_of(topic: str) -> str:
    """``bulk`` for a ``.bulk`` lane, ``dlq`` for a dead-letter topic, else ``primary``."""
    if topic.endswith(BULK_SUFFIX):
        return "bulk"
    return "dlq" if topic.endswith(DLQ_SUFFIX) else "primary"


def behind(committed: dict[Partition, int], highs: dict[Partition, int]) -> dict[Partition, int]:
    """Records behind per partition (partitions without a known watermark are left out)."""
    return {tp: max(0, highs[tp] - offset) for tp, offset in committed.items() if tp in highs}


def group_lag(
    group: str,
    committed: dict[Partition, int],
    highs: dict[Partition, int],
    oldest_unconsumed: dict[tuple[str, int, int], datetime],
    now: datetime,
) -> list[GroupLag]:
    """One row per topic the group committed on; ``seconds`` is None when no record time is known."""
    per_partition = behind(committed, highs)
    by_topic: dict[str, list[Partition]] = {}
    for tp in committed:
        by_topic.setdefault(tp[0], []).append(tp)
    rows: list[GroupLag] = []
    for topic, tps in sorted(by_topic.items()):
        records = sum(per_partition.get(tp, 0) for tp in tps)
        ages = [
            (now - oldest_unconsumed[(tp[0], tp[1], committed[tp])]).total_seconds()
            for tp in tps
            if per_partition.get(tp, 0) > 0 and (tp[0], tp[1], committed[tp]) in oldest_unconsumed
        ]
        seconds = round(max(0.0, max(ages)), 1) if ages else (0.0 if records == 0 else None)
        rows.append(GroupLag(group, topic, lane_of(topic), len(tps), records, seconds))
    return rows
