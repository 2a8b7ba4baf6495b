"""`bookshelf dlq` against the running system: a poison record is found, inspected, replayed, purged.

The record is bad JSON on `catalog.books`, which several services' consumers read: each of their
groups dead-letters it at once. Only entries carrying this test's unique key are asserted on. The
replay runs `bookshelf` as a process, as an operator would; the other commands run in process
(`RunningSystem.cli_in_process`), which saves an interpreter start per poll.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from bookshelf_infra.testing import eventually
from confluent_kafka import Producer

from tests.e2e.system import RunningSystem

TOPIC = "catalog.books"


def _produce_poison(system: RunningSystem, key: str) -> None:
    producer = Producer({"bootstrap.servers": system.kafka_bootstrap, "partitioner": "murmur2_random"})
    producer.produce(TOPIC, key=key.encode(), value=b"{this is not json", headers=[("type", b"BookAdded")])
    assert producer.flush(10) == 0


def _mine(system: RunningSystem, key: str) -> list[dict[str, Any]]:
    listed = system.cli_in_process("dlq", "list", "--topic", TOPIC, "--json")
    assert listed.returncode == 0, listed.stderr
    entries: list[dict[str, Any]] = orjson.loads(listed.stdout)["entries"]
    return [e for e in entries if e["key"] == key]


async def _wait_mine(
    system: RunningSystem, key: str, replay_count: int, group: str | None = None
) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]]:
        entries = [e for e in _mine(system, key) if e["replay_count"] == replay_count]
        return [e for e in entries if group is None or e["group"] == group]

    return await eventually(found, timeout=60, interval=0.5, message=f"no dead letter with key {key}")


async def test_a_poison_record_is_listed_inspected_replayed_and_purged(running_system: RunningSystem) -> None:
    system, key = running_system, f"cli-poison-{uuid.uuid4()}"
    _produce_poison(system, key)
    [entry, *_] = await _wait_mine(system, key, replay_count=0)
    assert entry["topic"] == TOPIC
    assert entry["error_type"].endswith("InvalidEnvelope")
    assert entry["attempts"] == 1

    shown = system.cli_in_process("dlq", "list", "--topic", TOPIC)
    assert shown.returncode == 0
    assert entry["id"] in shown.stdout

    inspected = system.cli_in_process("dlq", "inspect", entry["id"], "--json")
    assert inspected.returncode == 0, inspected.stderr
    detail = orjson.loads(inspected.stdout)
    assert detail["payload"] == "{this is not json"
    assert detail["headers"]["dlq.original_topic"] == TOPIC
    assert detail["headers"]["dlq.consumer_group"] == entry["group"]
    assert "InvalidEnvelope" in detail["stacktrace"]
    assert "stack trace" in system.cli_in_process("dlq", "inspect", entry["id"]).stdout

    replayed = system.cli("dlq", "replay", entry["id"])
    assert replayed.returncode == 0, replayed.stderr
    assert f"Replayed {entry['id']} to {TOPIC}" in replayed.stdout
    # Still poison: it comes back from the same group as a new entry that counts the replay.
    [retry] = await _wait_mine(system, key, replay_count=1, group=entry["group"])
    assert entry["id"] not in {e["id"] for e in _mine(system, key)}

    refused = system.cli_in_process("dlq", "replay", retry["id"], "--max-replays", "1")
    assert refused.returncode == 1
    assert "already replayed 1 times" in refused.stderr
    assert "next:" in refused.stderr

    dry = system.cli_in_process(
        "dlq", "replay-all", "--topic", TOPIC, "--error-type", "InvalidEnvelope", "--dry-run", "--json"
    )
    assert dry.returncode == 0, dry.stderr
    counts = orjson.loads(dry.stdout)
    assert counts["dry_run"] is True
    assert counts["by_error_type"]["bookshelf_contracts.errors.InvalidEnvelope"] >= 1
    assert retry["id"] in {e["id"] for e in _mine(system, key)}  # a dry run changes nothing

    unconfirmed = system.cli_in_process("dlq", "purge", "--topic", TOPIC)
    assert unconfirmed.returncode == 2
    assert "--yes" in unconfirmed.stderr
    before = {e["id"] for e in _mine(system, key)}
    purged = system.cli_in_process("dlq", "purge", "--topic", TOPIC, "--yes")
    assert purged.returncode == 0, purged.stderr
    assert "Closed" in purged.stdout
    assert not before & {e["id"] for e in _mine(system, key)}


def test_unknown_entries_and_topics_say_what_to_do(running_system: RunningSystem) -> None:
    missing = running_system.cli_in_process("dlq", "inspect", "0000000000000000")
    assert missing.returncode == 1
    assert "bookshelf dlq list" in missing.stderr
    unknown = running_system.cli_in_process("dlq", "list", "--topic", "no.such.topic")
    assert unknown.returncode == 2
    assert "catalog.books" in unknown.stderr
