"""`bookshelf dlq purge|replay|replay-all|close` against a real broker (issue 16, item 5): a purge
closes exactly the entries it counted, and a dead letter without its whole record is never replayed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from bookshelf_cli import dlq as dlq_cli
from bookshelf_cli.main import app
from bookshelf_infra.testing import unique_name
from bookshelf_messaging import DeadLetterStore, KafkaSettings, build_dead_letter, create_topic
from bookshelf_messaging.dlq import DeadLetterRecord, Failure, truncated
from confluent_kafka import Consumer, Producer, TopicPartition
from typer.testing import CliRunner


class Record:
    """A consumed record as the DLQ writer needs it."""

    def __init__(self, topic: str, offset: int, value: bytes) -> None:
        self.topic, self.partition, self.offset = topic, 0, offset
        self.key: bytes | None = b"k"
        self.value: bytes | None = value
        self.headers: list[tuple[str, bytes]] = []


def _letter(topic: str, offset: int, value: bytes = b"{}") -> DeadLetterRecord:
    now = datetime.now(UTC)
    return build_dead_letter(Record(topic, offset, value), "g", Failure(ValueError("broken"), 1, now, now))


def _write(bootstrap: str, *letters: DeadLetterRecord) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for letter in letters:
        headers: Any = letter.headers
        producer.produce(
            letter.topic, value=letter.value, key=letter.key.encode(), headers=headers, partition=0
        )
    assert producer.flush(10) == 0


def _end_offset(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_name("end")})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1])
    finally:
        consumer.close()


@pytest.fixture
def topic(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh topic with its DLQ; the CLI talks to the test broker."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    name = unique_name("cli_dlq")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    asyncio.run(create_topic(kafka, name, 1))
    asyncio.run(create_topic(kafka, f"{name}.dlq", 1, compacted=True))
    return name


def _open_ids(kafka_bootstrap: str, topic: str) -> set[str]:
    return {
        e.entry_id for e in DeadLetterStore(KafkaSettings(bootstrap_servers=kafka_bootstrap)).list_open(topic)
    }


def test_purge_closes_the_entries_it_counted_not_those_arriving_during_the_question(
    kafka_bootstrap: str, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = [_letter(topic, 0), _letter(topic, 1)]
    _write(kafka_bootstrap, *shown)
    arrived = _letter(topic, 2)
    questions: list[str] = []

    def answer_yes_while_a_letter_arrives(question: str, yes: bool) -> None:
        questions.append(question)
        _write(kafka_bootstrap, arrived)  # a consumer dead-letters a record while the operator reads

    monkeypatch.setattr(dlq_cli, "_confirm", answer_yes_while_a_letter_arrives)
    result = CliRunner().invoke(app, ["dlq", "purge", "--topic", topic])

    assert result.exit_code == 0, result.output
    assert questions == [f"Close 2 dead letters of {topic} without replaying them?"]
    assert "Closed 2 dead letters" in result.stdout
    assert _open_ids(kafka_bootstrap, topic) == {arrived.key}


def test_a_cut_dead_letter_is_refused_with_what_to_do(kafka_bootstrap: str, topic: str) -> None:
    cut = truncated(_letter(topic, 5, b"x" * 100_000))
    whole = _letter(topic, 6)
    _write(kafka_bootstrap, cut, whole)
    runner = CliRunner()

    refused = runner.invoke(app, ["dlq", "replay", cut.key])
    assert refused.exit_code == 1
    assert "dlq.value_truncated" in refused.stderr
    assert f"{topic} partition 0 offset 5" in refused.stderr
    assert f"bookshelf dlq close {cut.key}" in refused.stderr
    assert _end_offset(kafka_bootstrap, topic) == 0, "a cut record was published"

    replayed = runner.invoke(app, ["dlq", "replay-all", "--topic", topic, "--yes"])
    assert replayed.exit_code == 0, replayed.output
    assert "without the whole original record are left open" in replayed.stderr.replace("\n", " ")
    assert _end_offset(kafka_bootstrap, topic) == 1  # the whole one only
    assert _open_ids(kafka_bootstrap, topic) == {cut.key}

    closed = runner.invoke(app, ["dlq", "close", cut.key, "--yes"])
    assert closed.exit_code == 0, closed.output
    assert _open_ids(kafka_bootstrap, topic) == set()


def _records(bootstrap: str, topic: str) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": unique_name("read"), "enable.partition.eof": True}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        records: list[Any] = []
        while True:
            msg = consumer.poll(10)
            assert msg is not None, f"no end of {topic} within 10 s"
            if msg.error() is not None:
                return records
            records.append(msg)
    finally:
        consumer.close()


def test_a_cut_dead_letter_is_replayed_whole_from_its_original_offset(
    kafka_bootstrap: str, topic: str
) -> None:
    whole = b"y" * 100_000
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, value=whole, key=b"k", headers=[("type", b"BookAdded")], partition=0)
    assert producer.flush(10) == 0
    record = Record(topic, 0, whole)
    record.headers = [("type", b"BookAdded")]
    now = datetime.now(UTC)
    cut = truncated(build_dead_letter(record, "the-group", Failure(ValueError("broken"), 1, now, now)))
    gone = truncated(_letter(topic, 7, b"z" * 100_000))  # no record at offset 7
    _write(kafka_bootstrap, cut, gone)
    runner = CliRunner()

    replayed = runner.invoke(app, ["dlq", "replay", cut.key, "--from-original"])

    assert replayed.exit_code == 0, replayed.output
    _original, again = _records(kafka_bootstrap, topic)
    assert again.value() == whole
    assert again.key() == b"k"
    headers = dict(again.headers() or [])
    assert headers["dlq.replay_group"] == b"the-group"
    assert headers["dlq.replay_count"] == b"1"
    assert headers["type"] == b"BookAdded"
    assert _open_ids(kafka_bootstrap, topic) == {gone.key}

    refused = runner.invoke(app, ["dlq", "replay", gone.key, "--from-original"])
    assert refused.exit_code == 1
    assert "retention removed it" in refused.stderr.replace("\n", " ")
    assert _end_offset(kafka_bootstrap, topic) == 2
