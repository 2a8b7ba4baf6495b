"""Priority lanes: the bulk lane (``<topic>.bulk``) only runs while the primary lane is idle.

The runner reads both lanes. After every fetch it asks ``LaneController.apply``: when the primary
lane has work (records in this fetch or queued, or a partition whose fetch high watermark is ahead of
the consumer position) every assigned bulk partition is paused, and bulk records that were fetched or
queued are handed back (the partition is rewound to them) so they never run before primary work; a
bulk batch already in flight finishes. When the primary lane is idle the bulk partitions resume.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from bookshelf_contracts import bulk
from bookshelf_contracts.topics import BULK_SUFFIX

from bookshelf_messaging import metrics

if TYPE_CHECKING:
    from bookshelf_messaging._workers import PartitionWorkers

LaneName = Literal["primary", "bulk"]
Batches = dict[TopicPartition, list[Any]]


def lane_of(topic: str) -> LaneName:
    """``bulk`` for ``<topic>.bulk`` names, else ``primary``."""
    return "bulk" if topic.endswith(BULK_SUFFIX) else "primary"


def subscribed_topics(topics: Sequence[str], *, lanes: bool) -> list[str]:
    """The topics a runner subscribes to: each topic, plus its bulk lane when lanes are on."""
    if not lanes:
        return list(topics)
    names: list[str] = []
    for topic in topics:
        names.append(topic)
        if lane_of(topic) == "primary":
            names.append(bulk(topic))
    return names


def primary_has_work(fetched_primary: int, watermarks: Iterable[tuple[int | None, int | None]]) -> bool:
    """Pure lane decision: records just fetched, or any (highwater, position) with highwater ahead."""
    if fetched_primary > 0:
        return True
    return any(hw is not None and pos is not None and hw > pos for hw, pos in watermarks)


class LaneController:
    """Decides after every fetch whether the bulk partitions of one consumer may run."""

    def __init__(self, consumer: AIOKafkaConsumer, group: str) -> None:
        self.consumer = consumer
        self.group = group
        self.paused: set[TopicPartition] = set()  # bulk partitions held back for the primary lane

    async def apply(self, batches: Batches, workers: PartitionWorkers) -> Batches:
        """Returns the batches to hand to workers now; bulk ones are given back while primary is busy."""
        assignment = self.consumer.assignment()
        primary_tps = [tp for tp in assignment if lane_of(tp.topic) == "primary"]
        bulk_tps = [tp for tp in assignment if lane_of(tp.topic) == "bulk"]
        fetched = sum(len(recs) for tp, recs in batches.items() if lane_of(tp.topic) == "primary")
        fetched += workers.pending(primary_tps)
        watermarks = [(self.consumer.highwater(tp), await self._position(tp)) for tp in primary_tps]
        if not primary_has_work(fetched, watermarks):
            self._set_paused(set())
            return batches
        self._set_paused(set(bulk_tps))
        kept: Batches = {}
        for tp, records in batches.items():
            if lane_of(tp.topic) == "primary":
                kept[tp] = records
        for tp in bulk_tps:
            # Queued and just-fetched bulk records go back to the broker; the batch in flight finishes.
            workers.rewind(tp, batches.get(tp))
        return kept

    async def _position(self, tp: TopicPartition) -> int | None:
        if self.consumer.highwater(tp) is None:
            return None  # never fetched: the position may not be known yet and would block
        return int(await self.consumer.position(tp))

    def _set_paused(self, tps: set[TopicPartition]) -> None:
        if bool(tps) != bool(self.paused):
            metrics.LANE_PAUSED.labels(self.group).set(1 if tps else 0)
        self.paused = tps
