"""Scenario 6: the broker alone is killed (SIGKILL, as a crash) while orders flow; orders keep being
accepted and wait in the outbox; /readyz says 503 (never another 5xx); the broker starts again on
its data, and everything drains without restarting a service.

Nothing may be forgotten: the topics come back with their partitions and their offsets continue, the
dead letters of earlier scenarios are still listed, every saga survives, and the read models still
equal a rebuild from the topics' whole history.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from bookshelf_infra.testing import eventually
from confluent_kafka.admin import AdminClient

from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.processes import LAYOUT
from tests.faults.scenario import finish, probe_until, ready_status
from tests.faults.settle import settle
from tests.faults.verdict import conclude
from tests.faults.world import outbox_backlogs

DURING = 30  # orders placed while the broker is down


def topics_now(cluster: Cluster) -> dict[str, int]:
    metadata = AdminClient(cluster.kafka_settings.confluent_config()).list_topics(timeout=30)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def end_offsets(cluster: Cluster) -> dict[tuple[str, int], int]:
    """The high watermark of every partition of the primary topics."""
    from bookshelf_contracts import TOPICS
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**cluster.kafka_settings.confluent_config(), "group.id": "faults-s6-offsets"})
    try:
        marks = {}
        for spec in TOPICS:
            for partition in range(spec.partitions):
                marks[(spec.name, partition)] = _high_watermark(
                    consumer, TopicPartition(spec.name, partition)
                )
        return marks
    finally:
        consumer.close()


def _high_watermark(consumer: Any, tp: Any, within: float = 60.0) -> int:
    """A partition's high watermark; right after a restart the broker may still be electing its leader
    (NOT_LEADER_FOR_PARTITION), so a broker error is retried until ``within`` passes."""
    from confluent_kafka import KafkaException

    deadline = time.monotonic() + within
    while True:
        try:
            _, high = consumer.get_watermark_offsets(tp, timeout=30)
            return int(high)
        except KafkaException:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.5)  # polling interval while the leader is elected


async def saga_worker_after_restart(shop: Shop, cluster: Cluster, started: float) -> bool:
    """The saga worker either recovers or stops; a stopped one is started again, as `bookshelf run`
    would. True if it stopped."""
    proc = cluster.procs["fulfillment"]

    async def decided() -> bool:
        if not proc.running():
            return True
        recovered = await ready_status(shop.client, proc.url) == 200
        return recovered and time.monotonic() - started > 15  # past the group's rejoin

    await eventually(decided, timeout=120, interval=0.5, message="saga worker neither ready nor stopped")
    if proc.running():
        return False
    await asyncio.to_thread(cluster.start_proc, "fulfillment")
    return True


@pytest.mark.timeout(900)
async def test_broker_outage_orders_wait_in_the_outbox(shop: Shop, cluster: Cluster) -> None:
    errors_before = len(shop.ledger.server_errors)
    assert not await settle(shop), "not settled before the outage"
    await shop.fulfil(list(shop.ledger.orders.values()), seed=6, share=1.0)  # no saga left waiting
    assert not await settle(shop), "not settled before the outage"
    pids = {name: cluster.procs[name].pid for name in LAYOUT}
    planned = await asyncio.to_thread(topics_now, cluster)
    offsets_before = await asyncio.to_thread(end_offsets, cluster)
    await asyncio.to_thread(cluster.kill_broker)
    try:
        await shop.drive("s6", DURING, seed=6)
        backlog = (await outbox_backlogs(shop))["ordering"]
        readyz = await probe_until(shop, [n for n in LAYOUT if n != "fulfillment"], 503, within=60)
    finally:
        cluster.start_broker()  # on the main thread: the broker dies with the thread that starts it
    started = time.monotonic()
    after = await asyncio.to_thread(topics_now, cluster)
    offsets_after = await asyncio.to_thread(end_offsets, cluster)
    saga_restarted = await saga_worker_after_restart(shop, cluster, started)
    outcome = await finish(shop, "6 broker outage", "s6", 1, errors_before=errors_before)
    restarted = [
        n
        for n, pid in pids.items()
        if n != "fulfillment" and (not cluster.procs[n].running() or cluster.procs[n].pid != pid)
    ]
    outcome.facts |= {
        "outbox_backlog_during_outage": backlog,
        "restarted": len(restarted),
        "saga_worker_restarted": int(saga_restarted),
    }
    conclude(cluster, outcome)
    assert backlog >= DURING, f"orders did not wait in the outbox: backlog {backlog}"
    dishonest = {n: s for n, seen in readyz.items() for s in seen if s is not None and s >= 500 and s != 503}
    assert not dishonest, f"/readyz answered other 5xx than 503 while the broker was down: {dishonest}"
    assert after == planned, "the topics after the broker's restart differ from before"
    went_back = {tp: (offsets_before[tp], offsets_after.get(tp, 0)) for tp in offsets_before
                 if offsets_after.get(tp, 0) < offsets_before[tp]}  # fmt: skip
    assert not went_back, f"offsets went back after the restart (before, after): {went_back}"
    assert not restarted, f"processes restarted instead of recovering: {restarted}"
