"""Scenario 3: PostgreSQL stops and starts again under load, twice. While it is down every process
with a database answers /readyz with 503 and its API with 503 (never another 5xx); afterwards each
recovers by itself: same process ids, /readyz 200, everything drains."""

from __future__ import annotations

import asyncio

import pytest
from bookshelf_infra.testing import eventually

from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.processes import LAYOUT
from tests.faults.scenario import SHORT, finish, load_during, probe_until
from tests.faults.verdict import conclude

RESTARTS = 1 if SHORT else 2
WITH_DATABASE = list(LAYOUT)  # the saga worker too: its state is in PostgreSQL


async def restart_postgres(shop: Shop, cluster: Cluster, readyz_errors: list[str]) -> None:
    """Stop PostgreSQL under load, check /readyz says 503 everywhere, start it, check recovery."""
    pids = {name: cluster.procs[name].pid for name in cluster.procs}
    placed = len(shop.ledger.orders)
    await eventually(lambda: len(shop.ledger.orders) >= placed + 10, timeout=120, interval=0.1)  # under load
    await asyncio.to_thread(cluster.stop_postgres)
    try:
        down = await probe_until(shop, WITH_DATABASE, 503, within=60)
    finally:  # a failed check must not leave the next scenarios without a database
        await asyncio.to_thread(cluster.start_postgres)
    up = await probe_until(shop, WITH_DATABASE, 200, within=120)
    for name in WITH_DATABASE:
        statuses = down[name] + up[name]
        readyz_errors += [f"{name} /readyz {s}" for s in statuses if s is not None and s >= 500 and s != 503]
    restarted = [
        n for n, pid in pids.items() if not cluster.procs[n].running() or cluster.procs[n].pid != pid
    ]
    assert not restarted, f"processes restarted instead of recovering: {restarted}"


@pytest.mark.timeout(900)
async def test_postgres_restart_under_load(shop: Shop, cluster: Cluster) -> None:
    errors_before = len(shop.ledger.server_errors)
    unavailable_before = shop.ledger.unavailable
    readyz_errors: list[str] = []

    async def inject() -> int:
        for _ in range(RESTARTS):
            await restart_postgres(shop, cluster, readyz_errors)
        return RESTARTS

    _, faults = await load_during(shop, "s3", inject, seed=3, minimum=60)
    shop.ledger.server_errors += readyz_errors
    outcome = await finish(shop, "3 PostgreSQL restart under load", "s3", faults, errors_before=errors_before)
    outcome.facts["http_503_answers"] = shop.ledger.unavailable - unavailable_before
    conclude(cluster, outcome)
