"""Committed offsets of every consumer group (confluent-kafka AdminClient; sync, run in a thread)."""

from __future__ import annotations

from bookshelf_messaging import KafkaSettings
from confluent_kafka import ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient

Committed = dict[str, dict[tuple[str, int], int]]

# Throwaway readers (dlq list, trace scans) never commit; skip them without asking.
_EPHEMERAL_PREFIXES = ("bookshelf-dlq-reader-", "bookshelf-trace-scan-")


def committed_offsets(kafka: KafkaSettings, *, timeout_s: float = 5.0) -> Committed:
    """``{group: {(topic, partition): committed offset}}`` for every group that committed something."""
    admin = AdminClient(kafka.confluent_config())
    listing = admin.list_consumer_groups(request_timeout=timeout_s).result(timeout=timeout_s)
    groups = sorted(g.group_id for g in listing.valid if not g.group_id.startswith(_EPHEMERAL_PREFIXES))
    committed: Committed = {}
    for group in groups:  # one group per request: the client refuses several at once
        futures = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=timeout_s
        )
        for future in futures.values():
            result = future.result(timeout=timeout_s)
            offsets = {
                (tp.topic, tp.partition): tp.offset
                for tp in result.topic_partitions or []
                if tp.offset is not None and tp.offset >= 0
            }
            if offsets:
                committed[group] = offsets
    return committed
