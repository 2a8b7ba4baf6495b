"""The local Apache Kafka broker: lifecycle, durability across restarts and kills, and topics, keys,
headers and groups with both client libraries.

Measured on the 2-core dev machine (Kafka 4.3.1 on OpenJDK 17): ``LocalKafka.start()`` takes ~3 s on
a new folder (formatting the storage is a JVM run of its own) and ~2.2 s on an existing one; a
controlled shutdown ~0.3 s. Timings are printed, never asserted.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from bookshelf_infra.kafka import BrokerStartError, LocalKafka, PortInUseError
from bookshelf_infra.testing import eventually, free_port, unique_name
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

AIOKAFKA_GROUP_SETTINGS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def create_topic(bootstrap: str, partitions: int = 3) -> str:
    topic = unique_name("infra.test.")
    admin = AdminClient({"bootstrap.servers": bootstrap})  # keep a reference until the future resolves
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(timeout=10)
    return topic


def local_broker(data_dir: Path) -> LocalKafka:
    return LocalKafka(data_dir, port=free_port(), controller_port=free_port())


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for value in values:
        producer.produce(topic, value=value, key=b"k")
    assert producer.flush(10) == 0


def consume_committed(bootstrap: str, topic: str, group: str, want: int) -> list[bytes]:
    """Read ``want`` records as ``group`` from its committed offset (earliest if none), then commit."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
         "enable.auto.commit": False, "session.timeout.ms": 6000}
    )  # fmt: skip
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        while len(values) < want and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                values.append(message.value())
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return values


def test_local_broker_starts_answers_names_its_version_and_stops(tmp_path: Path) -> None:
    broker = local_broker(tmp_path / "kafka")
    started = time.monotonic()
    with broker:
        print(f"first start: {time.monotonic() - started:.2f} s")
        assert broker.is_running()
        assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
        assert AdminClient({"bootstrap.servers": broker.bootstrap_servers}).list_topics(timeout=5).brokers
        assert broker.version.startswith("4.")
        assert f"Apache Kafka {broker.version}" in broker.describe()
        assert f"Kafka version: {broker.version}" in broker.log_path.read_text()
    assert not broker.is_running()
    broker.stop()  # idempotent


@pytest.mark.parametrize("how", ["graceful", "sigkill"])
def test_records_and_committed_offsets_survive_a_restart(tmp_path: Path, how: str) -> None:
    broker = local_broker(tmp_path / "kafka")
    with broker:
        topic = create_topic(broker.bootstrap_servers, partitions=1)
        produce(broker.bootstrap_servers, topic, [b"a", b"b", b"c"])
        assert consume_committed(broker.bootstrap_servers, topic, "g1", want=2) == [b"a", b"b"]
        if how == "sigkill":
            broker.kill()
        else:
            broker.stop()
        started = time.monotonic()
        broker.start()
        print(f"restart after {how}: {time.monotonic() - started:.2f} s")
        produce(broker.bootstrap_servers, topic, [b"d"])
        watermark = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "marks"})
        try:
            low, high = watermark.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        finally:
            watermark.close()
        assert (low, high) == (0, 4), "the offsets started again instead of continuing"
        # g1 committed after its second record: it resumes there, not at the beginning or the end.
        assert consume_committed(broker.bootstrap_servers, topic, "g1", want=2) == [b"c", b"d"]


def test_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    with local_broker(tmp_path / "first") as first:
        second = LocalKafka(tmp_path / "second", port=first.port, controller_port=free_port())
        with pytest.raises(
            PortInUseError, match=f"port {first.port} is in use; set BOOKSHELF_KAFKA_PORT or stop"
        ):
            second.start()
        assert first.is_running()
        assert not second.is_running()


def test_start_failure_reports_the_log_tail(tmp_path: Path) -> None:
    # A setting the broker refuses: it exits while starting, and the error shows its log.
    broker = LocalKafka(
        tmp_path / "kafka", port=free_port(), controller_port=free_port(), extra_properties={"node.id": "-5"}
    )
    with pytest.raises(BrokerStartError, match=r"(?s)(exited with status|formatting).*node.id"):
        broker.start()
    assert not broker.is_running()


def test_a_broker_left_behind_by_a_killed_owner_is_stopped_on_the_next_start(tmp_path: Path) -> None:
    first = local_broker(tmp_path / "kafka")
    first.start()
    orphan = psutil.Process(first.pid)
    first._proc = None  # its owner "dies" without stopping it: the broker keeps the ports
    try:
        second = LocalKafka(first.data_dir, port=first.port, controller_port=first.controller_port)
        with second:
            assert not orphan.is_running() or orphan.status() == psutil.STATUS_ZOMBIE
            assert second.pid != orphan.pid
    finally:
        if orphan.is_running():
            orphan.send_signal(signal.SIGKILL)


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
