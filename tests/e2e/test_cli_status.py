"""`bookshelf status` against the running system: groups, lag in records and seconds, DLQ, outbox.

Lag is checked on a group of this test's own: records produced in one multi-record batch with old
timestamps, a committed offset in the middle. The memory-only broker Bookshelf used to embed answered
ListOffsets(latest) wrongly after such batches (docs/adr/0001-kafka-broker-per-mode.md); the status must still
count exactly the waiting records.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.e2e.system import RunningSystem

AGE_S = 90


def _lagging_group(bootstrap: str) -> tuple[str, str]:
    """A topic with 50 + 7 records and a group committed at 20 and 7: 30 records wait, the oldest ~90 s."""
    topic, group = f"cli_status_{uuid.uuid4().hex[:10]}", f"cli-status-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 3, 1)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    old = int((time.time() - AGE_S) * 1000)
    for i in range(50):
        producer.produce(topic, partition=0, value=b"x", timestamp=old + i)
    for _ in range(7):
        producer.produce(topic, partition=1, value=b"y")
    assert producer.flush(10) == 0
    committer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 20), TopicPartition(topic, 1, 7)], asynchronous=False)
    committer.close()
    return topic, group


def _status(system: RunningSystem, *args: str) -> dict[str, Any]:
    answer = system.cli_in_process("status", "--json", *args)
    assert answer.returncode == 0, answer.stderr
    document: dict[str, Any] = orjson.loads(answer.stdout)
    return document


def test_lag_in_records_and_seconds_comes_from_the_fetch_high_watermark(
    running_system: RunningSystem,
) -> None:
    topic, group = _lagging_group(running_system.kafka_bootstrap)
    [row] = _status(running_system, "--group", group)["consumer_groups"]
    assert (row["group"], row["topic"], row["lane"], row["partitions"]) == (group, topic, "primary", 3)
    assert row["lag_records"] == 30
    assert AGE_S - 5 <= row["lag_seconds"] <= AGE_S + 120
    assert row["unknown_partitions"] == 0


def test_status_shows_service_groups_per_lane_dead_letters_and_outboxes(
    running_system: RunningSystem,
) -> None:
    document = _status(running_system)
    rows = {(r["group"], r["topic"]): r for r in document["consumer_groups"]}
    assert ("inventory.commands", "inventory.commands") in rows
    lanes = {rows[k]["lane"] for k in rows if k[0] == "inventory.catalog-events"}
    assert lanes == {"primary", "bulk"}
    assert all(r["lag_records"] >= 0 for r in rows.values())
    assert "catalog.books" in {d["topic"] for d in document["dead_letters"]}
    outboxes = {o["service"]: o for o in document["outbox"]}
    for service in ("catalog", "ordering", "inventory", "shipping"):
        assert outboxes[service]["error"] is None, outboxes[service]
        assert outboxes[service]["backlog"] >= 0

    shown = running_system.cli("status")
    assert shown.returncode == 0, shown.stderr
    for title in ("Consumer groups", "Dead letters", "Outbox", "inventory.commands"):
        assert title in shown.stdout
