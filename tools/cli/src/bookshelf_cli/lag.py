"""Consumer lag per group, topic and lane, in records and in seconds.

Lag is measured against the *fetch* high watermark: ListOffsets(latest) was wrong after multi-record
batches on the memory-only broker Bookshelf used to embed (docs/adr/0001-kafka-broker-per-mode.md;
measured: it answered 1 for a partition whose high watermark was 29), so
`get_watermark_offsets(cached=False)` is not used. Instead a throwaway consumer (it never joins or
commits) is assigned every partition a group reads, at the group's committed offset, and fetches once:
the first record it gets is the oldest unconsumed one (its timestamp gives the lag in seconds) and the
fetch response carries the high watermark (read with `cached=True`); a partition that answers "end of
partition" has nothing waiting.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

TP = tuple[str, int]
PositionLag = dict[
    tuple[str, str, int], float
]  # (group, topic, partition) -> records behind the member's position


def lane_of(topic: str) -> str:
    """``bulk`` for ``<topic>.bulk``, else ``primary`` (as bookshelf_messaging.lanes, without its imports)."""
    return "bulk" if topic.endswith(".bulk") else "primary"


@dataclass(frozen=True)
class PartitionLag:
    """One partition of one group: committed offset (None: never committed), watermark, oldest record."""

    group: str
    topic: str
    partition: int
    committed: int | None
    highwater: int | None  # None when the partition did not answer in time
    start: int | None = None  # first offset waiting for the group (== highwater when nothing waits)
    oldest_timestamp: float | None = None  # epoch seconds of the record at ``start``

    @property
    def records(self) -> int | None:
        """Records waiting: high watermark - committed offset (the log start when never committed, or
        when retention already deleted records the group never read)."""
        if self.highwater is None:
            return None
        bases = [b for b in (self.committed, self.start) if b is not None]
        return max(0, self.highwater - max(bases, default=self.highwater))


@dataclass(frozen=True)
class TopicLag:
    """The lag of one group on one topic (one lane), summed over its partitions."""

    group: str
    topic: str
    lane: str
    partitions: int
    records: int
    seconds: float | None  # age of the oldest waiting record; None when nothing waits
    unknown_partitions: int = 0
    in_flight: int | None = None  # fetched by a member but not committed yet, when metrics tell


def summarize(
    partitions: Iterable[PartitionLag], now: float, position_lag: PositionLag | None = None
) -> list[TopicLag]:
    """Per (group, topic) sums of records and the oldest waiting record's age, sorted by group and topic.

    ``position_lag`` (the services' ``bookshelf_consumer_lag`` gauges: high watermark - member position)
    tells how many waiting records a member already fetched and is handling: the in-flight ones.
    """
    grouped: dict[tuple[str, str], list[PartitionLag]] = {}
    for p in partitions:
        grouped.setdefault((p.group, p.topic), []).append(p)
    rows: list[TopicLag] = []
    for (group, topic), parts in sorted(grouped.items()):
        stamps = [p.oldest_timestamp for p in parts if p.records and p.oldest_timestamp is not None]
        rows.append(
            TopicLag(
                group=group,
                topic=topic,
                lane=lane_of(topic),
                partitions=len(parts),
                records=sum(p.records or 0 for p in parts),
                seconds=max(0.0, now - min(stamps)) if stamps else None,
                unknown_partitions=sum(1 for p in parts if p.highwater is None),
                in_flight=in_flight(parts, position_lag or {}),
            )
        )
    return rows


def in_flight(parts: list[PartitionLag], position_lag: PositionLag) -> int | None:
    """Records fetched but not committed: committed lag - position lag, where the metrics know the partition."""
    known = [
        (p, position_lag[(p.group, p.topic, p.partition)])
        for p in parts
        if (p.group, p.topic, p.partition) in position_lag
    ]
    if not known:
        return None
    return sum(max(0, (p.records or 0) - int(behind)) for p, behind in known)


def consumer_groups(admin: AdminClient, timeout_s: float) -> list[str]:
    """Every consumer group the broker knows."""
    result = admin.list_consumer_groups(request_timeout=timeout_s).result(timeout=timeout_s)
    return sorted(g.group_id for g in result.valid)


def committed_offsets(admin: AdminClient, group: str, timeout_s: float) -> dict[TP, int]:
    """The offsets a group committed (partitions it never committed are absent)."""
    futures = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group)], request_timeout=timeout_s
    )
    answer = futures[group].result(timeout=timeout_s)
    return {(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions or [] if tp.offset >= 0}


def assigned_topics(admin: AdminClient, groups: list[str], timeout_s: float) -> dict[str, set[str]]:
    """Topics assigned to each group's members (brokers that report assignments; the embedded one does not)."""
    topics: dict[str, set[str]] = {g: set() for g in groups}
    if not groups:
        return topics
    for group, future in admin.describe_consumer_groups(groups, request_timeout=timeout_s).items():
        try:
            description = future.result(timeout=timeout_s)
        except Exception:  # a group that vanished meanwhile: nothing assigned
            continue
        for member in description.members or []:
            for tp in member.assignment.topic_partitions if member.assignment else []:
                topics[group].add(tp.topic)
    return topics


def partitions_of(admin: AdminClient, timeout_s: float) -> dict[str, list[int]]:
    """Partition ids of every topic on the broker."""
    metadata = admin.list_topics(timeout=timeout_s)
    return {name: sorted(t.partitions) for name, t in metadata.topics.items() if t.error is None}


def probe(
    kafka_config: dict[str, object], group: str, committed: dict[TP, int], wanted: list[TP], timeout_s: float
) -> list[PartitionLag]:
    """Fetch once from each wanted partition at the group's committed offset (or the log start)."""
    if not wanted:
        return []
    consumer = Consumer(
        {
            **kafka_config,
            "group.id": f"bookshelf-status-{uuid.uuid4().hex[:8]}",  # never joins, never commits
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 10,
            "queued.min.messages": 1,  # one record per partition is all we need; do not prefetch more
            # An empty partition answers "end of partition"; librdkafka's default 500 ms backoffs after
            # such answers made a probe of 18 partitions take 1.5 s instead of 0.5 s.
            "fetch.error.backoff.ms": 10,
            "fetch.queue.backoff.ms": 0,
        }
    )
    try:
        consumer.assign([TopicPartition(t, p, committed.get((t, p), OFFSET_BEGINNING)) for t, p in wanted])
        found = _first_records(consumer, set(wanted), timeout_s)
    finally:
        consumer.close()
    return [
        PartitionLag(group, t, p, committed.get((t, p)), *found.get((t, p), (None, None, None)))
        for t, p in wanted
    ]


def _first_records(
    consumer: Consumer, pending: set[TP], timeout_s: float
) -> dict[TP, tuple[int, int, float | None]]:
    """Per partition ``(highwater, first waiting offset, its timestamp)`` until all answered or timeout."""
    found: dict[TP, tuple[int, int, float | None]] = {}
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for msg in consumer.consume(num_messages=500, timeout=0.1):
            tp = (msg.topic() or "", msg.partition() or 0)
            if tp not in pending:
                continue
            error = msg.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                continue  # retried by librdkafka; reported as unknown if it never answers
            offset = msg.offset() or 0
            if error is not None:  # end of partition: nothing waits; the EOF offset is the watermark
                found[tp] = (offset, offset, None)
            else:
                _, highwater = consumer.get_watermark_offsets(TopicPartition(*tp), cached=True)
                kind, stamp_ms = msg.timestamp()
                found[tp] = (
                    max(highwater, offset + 1),
                    offset,
                    stamp_ms / 1000 if kind and stamp_ms > 0 else None,
                )
            pending.discard(tp)
    return found
