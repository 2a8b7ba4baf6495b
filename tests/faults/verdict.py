"""After a scenario: settle, check every invariant, run `bookshelf audit`, compare the read models with a
rebuild from the topics, and report the counts (also appended to ``<home>/faults-report.jsonl`` and,
when set, to the file named by ``BOOKSHELF_FAULTS_REPORT``)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.faults.checks import Findings, check_world
from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.settle import settle
from tests.faults.world import World, observe


@dataclass
class Outcome:
    """The counts of one scenario (all but orders and faults must be zero) and the details behind them."""

    scenario: str
    orders: int
    faults: int
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    unsettled: int = 0
    drift: int = 0
    audit_violations: int = 0
    read_model_diffs: int = 0
    server_errors: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        counts = (self.lost, self.duplicated, self.stuck, self.unsettled, self.drift, self.audit_violations)
        return not any(counts) and not self.read_model_diffs and not self.server_errors

    def summary(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k != "details"}
        return orjson.dumps(body).decode() + "".join(f"\n  {d}" for d in self.details[:40])


def audit(cluster: Cluster, forgotten: set[str]) -> tuple[int, list[str]]:
    """`bookshelf audit --json`: (violations, details); a failed run counts as one violation.
    ``forgotten``: orders whose saga instance may legitimately be gone (none since the broker is durable)."""
    result = cluster.cli("audit", "--json", "--settle-timeout", "15")
    try:
        document = orjson.loads(result.stdout)
    except orjson.JSONDecodeError:
        return 1, [f"audit exit {result.returncode}: {result.stdout[-500:]} {result.stderr[-500:]}"]
    violations = [
        f"audit: {v['check']} {v['id']}: {v['detail']}"
        for v in document["violations"]
        if not (v["check"] == "order-without-saga" and v["id"] in forgotten)
    ]
    if result.returncode != 0 and not violations and not forgotten:
        violations = [f"audit exit {result.returncode}: {document.get('error')}"]
    return len(violations), violations


def dead_letters(cluster: Cluster, expected: dict[str, frozenset[str]]) -> list[str]:
    """Open dead letters that were not injected (an effect lost to the DLQ), and injected poison
    records some group of their topic did not dead-letter (lost without a trace there)."""
    from bookshelf_messaging.dlq_store import DeadLetterStore

    found: list[str] = []
    seen: dict[str, set[str]] = {key: set() for key in expected}
    for entry in DeadLetterStore(cluster.kafka_settings).list_open():
        key = entry.original_key.decode(errors="replace") if entry.original_key else ""
        message_id = next((v.decode() for k, v in entry.original_headers if k == "message_id"), "")
        matched = [k for k in (key, message_id) if k in expected]
        for k in matched:
            seen[k].add(entry.consumer_group)
        if not matched:
            found.append(
                f"dead-lettered: {entry.original_topic}@{entry.original_offset} by {entry.consumer_group} "
                f"key {key}: {entry.error_type}: {entry.error_message[:200]}"
            )
    for key, groups in sorted(expected.items()):
        if missing := groups - seen[key]:
            found.append(f"poison record {key} not dead-lettered by {sorted(missing)}")
    return found


def _read_models(world: World) -> dict[str, dict[str, Any]]:
    return {
        "storefront": world.storefront,
        "catalog": world.catalog_view,
        "reports": world.reports,
        "tracking": world.tracking,
    }


async def rebuild_diffs(shop: Shop, before: World) -> list[str]:
    """`bookshelf projections rebuild all`, then every read-model entry that changed."""
    result = await asyncio.to_thread(shop.cluster.cli, "projections", "rebuild", "all")
    if result.returncode != 0:
        return [f"projections rebuild failed ({result.returncode}): {result.stderr[-800:]}"]
    after = _read_models(await observe(shop))
    diffs = []
    for model, entries in _read_models(before).items():
        for key in sorted(entries.keys() | after[model].keys()):
            if entries.get(key) != after[model].get(key):
                diffs.append(f"{model} {key}: live {entries.get(key)} != rebuilt {after[model].get(key)}")
    return diffs


async def verdict(
    shop: Shop,
    scenario: str,
    orders: int,
    faults: int,
    *,
    errors_before: int = 0,
    rebuild: bool = True,
    facts: dict[str, Any] | None = None,
    forgotten: set[str] | None = None,
) -> Outcome:
    """Settle, check, audit, compare with a rebuild; returns the counts."""
    outcome = Outcome(scenario, orders, faults, facts=dict(facts or {}))
    moving = await settle(shop)
    outcome.unsettled = len(moving)
    outcome.details += [f"unsettled: {m}" for m in moving]
    world = await observe(shop)
    found: Findings = check_world(world, shop.ledger, forgotten or set())
    for kind in ("lost", "duplicated", "stuck", "drift"):
        items = getattr(found, kind)
        setattr(outcome, kind, getattr(outcome, kind) + len(items))
        outcome.details += [f"{kind}: {item}" for item in items]
    letters = await asyncio.to_thread(dead_letters, shop.cluster, shop.ledger.dlq_expected)
    outcome.lost += len(letters)
    outcome.details += [f"lost: {item}" for item in letters]
    outcome.audit_violations, violations = await asyncio.to_thread(audit, shop.cluster, forgotten or set())
    outcome.details += violations
    if rebuild:
        diffs = await rebuild_diffs(shop, world)
        outcome.read_model_diffs = len(diffs)
        outcome.details += diffs
    errors = shop.ledger.server_errors[errors_before:]
    outcome.server_errors = len(errors)
    outcome.details += [f"5xx: {e}" for e in errors]
    outcome.facts["orders_in_system"] = len(world.orders)
    return outcome


def conclude(cluster: Cluster, outcome: Outcome) -> None:
    """Record the counts, then fail unless every one of them is zero."""
    record(cluster, outcome)
    assert outcome.clean, outcome.summary()


def record(cluster: Cluster, outcome: Outcome) -> None:
    line = orjson.dumps({k: v for k, v in asdict(outcome).items() if k != "details"}) + b"\n"
    targets = [cluster.home / "faults-report.jsonl"]
    if os.environ.get("BOOKSHELF_FAULTS_REPORT"):
        targets.append(Path(os.environ["BOOKSHELF_FAULTS_REPORT"]))
    for target in targets:
        with target.open("ab") as out:
            out.write(line)
