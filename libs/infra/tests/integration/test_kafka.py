"""The embedded broker: lifecycle, and topics, keys, headers and groups with both client libraries.

Measured on the 2-core dev machine with the dev/test settings (aiokafka ``fetch_max_wait_ms=10``,
``session_timeout_ms=6000``, ``heartbeat_interval_ms=1000``): the first consumer-group join on a fresh
broker takes ~3.0 s (from ``consumer.start()`` to the first record; Tansu waits about half the session
timeout before completing the first rebalance); ``EmbeddedKafka.start()`` takes 25-100 ms.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from bookshelf_infra.kafka import BrokerStartError, EmbeddedKafka, PortInUseError
from bookshelf_infra.testing import eventually, free_port, unique_name
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

AIOKAFKA_GROUP_SETTINGS = {"fetch_max_wait_ms": 10, "session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def create_topic(bootstrap: str, partitions: int = 3) -> str:
    topic = unique_name("infra.test.")
    admin = AdminClient({"bootstrap.servers": bootstrap})  # keep a reference until the future resolves
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(timeout=10)
    return topic


def test_embedded_broker_starts_answers_and_stops(tmp_path: Path) -> None:
    broker = EmbeddedKafka(port=free_port(), log_path=tmp_path / "tansu.log")
    started = time.monotonic()
    with broker:
        elapsed = time.monotonic() - started
        assert broker.is_running()
        assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
        assert AdminClient({"bootstrap.servers": broker.bootstrap_servers}).list_topics(timeout=5).brokers
        assert elapsed < 5, f"broker took {elapsed:.2f} s to answer"
    assert not broker.is_running()
    broker.stop()  # idempotent


def test_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    with EmbeddedKafka(port=free_port(), log_path=tmp_path / "first.log") as first:
        second = EmbeddedKafka(port=first.port, log_path=tmp_path / "second.log")
        with pytest.raises(
            PortInUseError, match=f"port {first.port} is in use; set BOOKSHELF_KAFKA_PORT or stop"
        ):
            second.start()
        assert first.is_running()
        assert not second.is_running()


def test_start_failure_reports_the_log_tail(tmp_path: Path) -> None:
    # An address this machine does not own: Tansu cannot bind and exits; the error shows its log.
    broker = EmbeddedKafka(port=free_port(), host="203.0.113.1", log_path=tmp_path / "tansu.log")
    with pytest.raises(BrokerStartError, match=r"(?s)exited with status .*last lines of .*tansu.log"):
        broker.start()
    assert not broker.is_running()


def test_confluent_kafka_round_trip_with_keys_and_headers(kafka_bootstrap: str) -> None:
    topic = create_topic(kafka_bootstrap)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(10):
        producer.produce(topic, value=f"v{i}".encode(), key=f"k{i % 3}".encode(), headers=[("type", b"Test")])
    assert producer.flush(10) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": unique_name("infra.test-group."),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
            "fetch.wait.max.ms": 10,
        }
    )
    consumer.subscribe([topic])
    received = []
    try:
        deadline = time.monotonic() + 20
        while len(received) < 10 and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                received.append(message)
    finally:
        consumer.close()
    assert sorted(m.value() for m in received) == [f"v{i}".encode() for i in range(10)]
    assert {m.key() for m in received} == {b"k0", b"k1", b"k2"}
    assert all(m.headers() == [("type", b"Test")] for m in received)
    by_key: dict[bytes, set[int]] = {}
    for m in received:
        by_key.setdefault(m.key(), set()).add(m.partition())
    assert all(len(partitions) == 1 for partitions in by_key.values()), "a key spread over partitions"


async def test_aiokafka_round_trip_and_group_join_time(kafka_bootstrap: str) -> None:
    topic = create_topic(kafka_bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, f"v{i}".encode(), key=b"book-1", headers=[("type", b"T")])
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=unique_name("infra.test-group."),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **AIOKAFKA_GROUP_SETTINGS,
    )
    started = time.monotonic()
    await consumer.start()
    received = []
    try:

        async def got_all() -> bool:
            batches = await consumer.getmany(timeout_ms=100)
            received.extend(record for records in batches.values() for record in records)
            return len(received) >= 5

        await eventually(got_all, timeout=20, message="aiokafka consumer did not receive 5 records")
        joined = time.monotonic() - started
        await consumer.commit()
    finally:
        await consumer.stop()
    print(f"aiokafka first group join + first records: {joined:.2f} s")
    assert [r.value for r in received] == [f"v{i}".encode() for i in range(5)]  # one key: in order
    assert all(r.key == b"book-1" and list(r.headers) == [("type", b"T")] for r in received)
    assert joined < 10, f"group join took {joined:.1f} s; check session/heartbeat settings"
