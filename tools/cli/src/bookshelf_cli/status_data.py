"""What `bookshelf status` reports, gathered from the broker, the service databases and /metrics."""

from __future__ import annotations

import asyncio
import fnmatch
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from confluent_kafka.admin import AdminClient

from bookshelf_cli import lag, scrape
from bookshelf_cli.backlog import OutboxBacklog, outbox_backlogs
from bookshelf_cli.connect import service_url
from bookshelf_cli.held import HeldReservations, default_limit, held_reservations
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.output import iso
from bookshelf_cli.services import installed_services

# The CLI's own throwaway readers never commit; they are not anybody's consumer group.
OWN_GROUP_PREFIXES = ("bookshelf-status-", "bookshelf-dlq-reader-")


@dataclass
class StatusReport:
    """Consumer lag per group/topic/lane, open dead letters per topic, outbox per service."""

    kafka: str
    consumers: list[lag.TopicLag]
    dead_letters: dict[str, int]
    outbox: list[OutboxBacklog]
    notes: list[str] = field(default_factory=list)
    held: HeldReservations | None = None

    def to_json(self) -> dict[str, Any]:
        """The `status --json` document."""
        return {
            "kafka": self.kafka,
            "at": iso_now(),
            "consumer_groups": [
                {
                    "group": r.group,
                    "topic": r.topic,
                    "lane": r.lane,
                    "partitions": r.partitions,
                    "lag_records": r.records,
                    "lag_seconds": None if r.seconds is None else round(r.seconds, 3),
                    "in_flight": r.in_flight,
                    "unknown_partitions": r.unknown_partitions,
                }
                for r in self.consumers
            ],
            "dead_letters": [{"topic": t, "open": n} for t, n in sorted(self.dead_letters.items())],
            "outbox": [
                {
                    "service": o.service,
                    "backlog": o.backlog,
                    "oldest_unpublished_age_seconds": None
                    if o.oldest_age_s is None
                    else round(o.oldest_age_s, 3),
                    "error": o.error,
                }
                for o in self.outbox
            ],
            "held_awaiting_dispatch": None if self.held is None else self.held.to_json(),
            "notes": self.notes,
        }


def iso_now() -> str | None:
    """Now, ISO-8601 UTC."""
    return iso(datetime.now(UTC))


def selected(groups: list[str], patterns: list[str] | None) -> list[str]:
    """Groups matching any glob pattern (all when none), minus the CLI's own readers."""
    mine = [g for g in groups if not g.startswith(OWN_GROUP_PREFIXES)]
    return [g for g in mine if not patterns or any(fnmatch.fnmatchcase(g, p) for p in patterns)]


def group_partitions(
    committed: dict[lag.TP, int], assigned: set[str], partitions: dict[str, list[int]]
) -> list[lag.TP]:
    """Every partition of every topic a group committed on or is assigned (lanes are topics of their own)."""
    topics = {t for t, _ in committed} | assigned
    return sorted((t, p) for t in topics for p in partitions.get(t, []))


def topics_in_metrics(positions: lag.PositionLag) -> dict[str, set[str]]:
    """Topics each group's members report lag for: what they are assigned, lanes included."""
    found: dict[str, set[str]] = {}
    for group, topic, _ in positions:
        found.setdefault(group, set()).add(topic)
    return found


def consumer_lag(
    admin: AdminClient,
    kafka_config: dict[str, Any],
    patterns: list[str] | None,
    timeout_s: float,
    positions: lag.PositionLag,
) -> tuple[list[lag.PartitionLag], list[str]]:
    """Probe every selected group's partitions (8 groups at a time); returns partitions and notes.

    Groups and their topics come from the broker (groups, committed offsets, assignments where the
    broker reports them) and from the services' metrics (assigned partitions, including a bulk lane
    or a whole group that has not committed anything yet).
    """
    reported = topics_in_metrics(positions)
    groups = selected(sorted(set(lag.consumer_groups(admin, timeout_s)) | set(reported)), patterns)
    partitions = lag.partitions_of(admin, timeout_s)
    assigned = lag.assigned_topics(admin, groups, timeout_s)
    plans: list[tuple[str, dict[lag.TP, int], list[lag.TP]]] = []
    idle: list[str] = []
    for group in groups:
        committed = lag.committed_offsets(admin, group, timeout_s)
        wanted = group_partitions(committed, assigned[group] | reported.get(group, set()), partitions)
        (plans.append((group, committed, wanted)) if wanted else idle.append(group))
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = pool.map(lambda plan: lag.probe(kafka_config, plan[0], plan[1], plan[2], timeout_s), plans)
        found = [p for group_parts in probed for p in group_parts]
    notes = [f"groups without committed offsets or assignments: {', '.join(idle)}"] if idle else []
    return found, notes


def dead_letter_depth(kafka: Any) -> dict[str, int]:
    """Open entries per primary topic, every `.dlq` topic listed (0 when empty)."""
    from bookshelf_messaging.dlq_store import DeadLetterStore

    store = DeadLetterStore(kafka)
    depth = {t.removesuffix(".dlq"): 0 for t in store.dlq_topics()}
    for entry in store.list_open():
        topic = entry.dlq_topic.removesuffix(".dlq")
        depth[topic] = depth.get(topic, 0) + 1
    return depth


def collect(
    config: LocalConfig,
    kafka: Any,
    admin: AdminClient,
    patterns: list[str] | None,
    timeout_s: float,
    dispatch_limit_s: float | None = None,
) -> StatusReport:
    """Everything `bookshelf status` shows."""
    specs = installed_services()
    positions = scrape.position_lag([service_url(s.name) for s in specs])
    partitions, notes = consumer_lag(admin, kafka.confluent_config(), patterns, timeout_s, positions)
    rows = lag.summarize(partitions, time.time(), positions)
    outbox = asyncio.run(outbox_backlogs(config, specs))
    limit = default_limit() if dispatch_limit_s is None else dispatch_limit_s
    held = asyncio.run(held_reservations(config, specs, limit))
    return StatusReport(kafka.bootstrap_servers, rows, dead_letter_depth(kafka), outbox, notes, held)
