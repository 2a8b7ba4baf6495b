"""Scenario 1: the active outbox relay is SIGKILLed between publish and mark, repeatedly; the standby
relay (a second `--role relay` process) takes over and publishes the unmarked rows again.

To hit exactly that window, the test holds row locks on every unpublished outbox row (SELECT ... FOR
UPDATE) while the relay runs: the relay reads and publishes them, then its "mark published" UPDATE
waits for the locks. The test sees that UPDATE waiting in pg_stat_activity and SIGKILLs the relay.
PostgreSQL notices the vanished client (client_connection_check_interval) and rolls the UPDATE back,
so the rows are published but unmarked; the test then releases its locks.
"""

from __future__ import annotations

import asyncio
import os
import signal

import asyncpg
import pytest
from bookshelf_infra.testing import eventually

from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.scenario import SHORT, finish, load_during, metric
from tests.faults.verdict import conclude
from tests.faults.wire import republished

RELAYS = ("ordering-relay-a", "ordering-relay-b")
KILLS = 2 if SHORT else 4
MARK_WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = 'ordering' AND wait_event_type = 'Lock' "
    "AND query LIKE 'UPDATE outbox SET published_at%'"
)


async def active_relay(shop: Shop) -> str:
    """The relay process that holds the lock (its gauge says 1), once exactly one does."""

    async def one_active() -> str:
        active = [
            n
            for n in RELAYS
            if await metric(shop.client, shop.cluster.procs[n].url, "bookshelf_outbox_relay_active") == 1
        ]
        assert len(active) == 1, active
        return active[0]

    return await eventually(one_active, timeout=60, interval=0.2, message="no single active relay")


async def kill_between_publish_and_mark(shop: Shop, cluster: Cluster) -> int:
    """One fault; returns the number of rows the killed relay had published but not marked."""
    victim = await active_relay(shop)
    pid = cluster.procs[victim].pid
    # Two sessions: statistics views are a snapshot per transaction, so the one holding the locks
    # would never see the relay's UPDATE start waiting.
    locks, watch = [await asyncpg.connect(cluster.dsn("ordering")) for _ in range(2)]
    try:
        os.kill(pid, signal.SIGSTOP)  # so it cannot publish the rows before they are locked
        try:
            await shop.place_order("s1", {shop.ledger.books[0]: 1})  # at least one row waits
            transaction = locks.transaction()
            await transaction.start()
            held = await locks.fetch("SELECT id FROM outbox WHERE published_at IS NULL FOR UPDATE")
        finally:
            os.kill(pid, signal.SIGCONT)
        waiting = await eventually(lambda: watch.fetch(MARK_WAITING), timeout=60, message="mark never waited")
        cluster.kill(victim)
        pids = [r["pid"] for r in waiting]
        await eventually(lambda: _gone(watch, pids), timeout=30, message="orphan UPDATE")
        await transaction.rollback()
    finally:
        await locks.close()
        await watch.close()
    await asyncio.to_thread(cluster.start_proc, victim)  # back, as the standby
    return len(held)


async def _gone(conn: asyncpg.Connection, pids: list[int]) -> bool:
    rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids)
    return not rows


@pytest.mark.timeout(900)
async def test_relay_killed_between_publish_and_mark(shop: Shop, cluster: Cluster) -> None:
    before = await asyncio.to_thread(republished, cluster.kafka_settings, "ordering.orders")
    unmarked: list[int] = []

    async def inject() -> int:
        while len(unmarked) < KILLS:
            unmarked.append(await kill_between_publish_and_mark(shop, cluster))
        return len(unmarked)

    _, faults = await load_during(shop, "s1", inject, seed=1)
    outcome = await finish(shop, "1 relay SIGKILL between publish and mark", "s1", faults)
    again = await asyncio.to_thread(republished, cluster.kafka_settings, "ordering.orders") - before
    outcome.facts |= {"rows_published_unmarked": sum(unmarked), "records_published_twice": again}
    conclude(cluster, outcome)
    # The fault really happened: every unmarked row went out a second time, from the standby.
    assert again >= sum(unmarked) > 0, outcome.summary()
