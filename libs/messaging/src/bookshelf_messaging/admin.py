"""Topic administration: create every missing topic once, with its final configuration.

A topic that exists is never touched: its records, offsets and configuration are the broker's to keep.
Partition counts are final (adding partitions would move keys and break per-key order). Event topics
and their bulk lanes keep their whole history (``retention.ms=-1``): projection rebuilds and new
consumer groups read them from the beginning. Dead-letter topics are compacted by entry id, so a
tombstone closes an entry. Replication is ``KAFKA_TOPIC_REPLICATION_FACTOR``, else min(3, brokers),
with ``min.insync.replicas`` one less (at least 1). ``max.message.bytes`` is the one record limit of
``limits`` (twice that for dead letters). docs/deploy.md has the table.

Synchronous functions use confluent-kafka's AdminClient; the ``async`` ones run them in a thread so
they never block an event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from bookshelf_contracts import TOPICS, TopicSpec, bulk, dlq
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from bookshelf_messaging.limits import DLQ_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES
from bookshelf_messaging.settings import KafkaSettings

TopicPlan = tuple[str, int, bool]  # (name, partitions, compacted)


def topic_plan(specs: Iterable[TopicSpec] = TOPICS) -> list[TopicPlan]:
    """Every topic to create for ``specs``: each topic, its ``.bulk`` lane and its compacted ``.dlq``."""
    plan: list[TopicPlan] = []
    for spec in specs:
        plan.append((spec.name, spec.partitions, False))
        plan.append((bulk(spec.name), spec.partitions, False))
        plan.append((dlq(spec.name), spec.partitions, True))
    return plan


def topic_config(compacted: bool, replication: int, max_message_bytes: int | None = None) -> dict[str, str]:
    """The configuration a topic is created with (compacted: a dead-letter topic).

    ``max.message.bytes`` is ``limits.MAX_MESSAGE_BYTES`` (what the relay may produce), twice that for
    a dead-letter topic; ``max_message_bytes`` overrides it (tests of oversized records).
    """
    config = {"min.insync.replicas": str(max(1, replication - 1))}
    if compacted:
        config |= {"cleanup.policy": "compact", "max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)}
    else:
        config |= {"retention.ms": "-1", "max.message.bytes": str(MAX_MESSAGE_BYTES)}
    if max_message_bytes is not None:
        config["max.message.bytes"] = str(max_message_bytes)
    return config


def create_topics_sync(
    kafka: KafkaSettings,
    plan: Iterable[TopicPlan],
    *,
    timeout_s: float = 30.0,
    max_message_bytes: int | None = None,
) -> list[str]:
    """Create the planned topics that do not exist yet; returns the names created."""
    admin = AdminClient(kafka.confluent_config())
    metadata = admin.list_topics(timeout=timeout_s)
    existing = set(metadata.topics)
    replication = kafka.topic_replication_factor or min(3, max(1, len(metadata.brokers)))
    wanted = [
        NewTopic(
            name,
            num_partitions=partitions,
            replication_factor=replication,
            config=topic_config(compacted, replication, max_message_bytes),
        )
        for name, partitions, compacted in plan
        if name not in existing
    ]
    if not wanted:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(wanted, operation_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            # Another process created it between our listing and our request: fine.
            if not (isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS):
                raise
    return created


def ensure_topics_sync(kafka: KafkaSettings, specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """Create every topic of ``specs`` with its bulk lane and DLQ (idempotent); returns names created."""
    return create_topics_sync(kafka, topic_plan(specs))


async def ensure_topics(kafka: KafkaSettings, specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """``ensure_topics_sync`` in a worker thread."""
    return await asyncio.to_thread(ensure_topics_sync, kafka, list(specs))


def partition_counts_sync(
    kafka: KafkaSettings, topics: Iterable[str], *, timeout_s: float = 30.0
) -> dict[str, int]:
    """The partition count of each topic (0 when it does not exist), from one Metadata request.

    Use this rather than an unsubscribed aiokafka consumer's ``partitions_for_topic``: such a consumer
    asks Kafka for the metadata of no topic, so it knows none.
    """
    metadata = AdminClient(kafka.confluent_config()).list_topics(timeout=timeout_s)
    found = metadata.topics
    return {name: len(found[name].partitions) if name in found else 0 for name in topics}


async def partition_counts(kafka: KafkaSettings, topics: Iterable[str]) -> dict[str, int]:
    """``partition_counts_sync`` in a worker thread."""
    return await asyncio.to_thread(partition_counts_sync, kafka, list(topics))


async def create_topic(
    kafka: KafkaSettings,
    name: str,
    partitions: int = 6,
    compacted: bool = False,
    *,
    max_message_bytes: int | None = None,
) -> bool:
    """Create one topic if missing (tests: unique names per test); True when it was created."""
    plan = [(name, partitions, compacted)]
    created = await asyncio.to_thread(create_topics_sync, kafka, plan, max_message_bytes=max_message_bytes)
    return bool(created)
