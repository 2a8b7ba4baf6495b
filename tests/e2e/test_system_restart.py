"""A whole system restarted three ways, with orders in flight, loses nothing (local Apache Kafka).

One `bookshelf run` system of its own goes through, in turn:

- ``sigint``: Ctrl-C, as a user stops `make run`, then a new `bookshelf run`;
- ``sigkill-all``: SIGKILL to every process at once (broker, PostgreSQL, supervisor, services), as a
  power cut would leave it, then a new `bookshelf run`;
- ``sigkill-supervisor``: SIGKILL to `bookshelf run` alone. Nothing may outlive it (the broker and the
  services get a parent-death signal, a watchdog stops PostgreSQL), and the next start on the same
  ports must come up cleanly.

Before each stop an order waits for dispatch, a burst of orders is in flight and a dead letter waits
for an operator. After each start: the waiting order's saga answers and the order can be dispatched and
delivered, the burst's orders all progress, the dead letter is still listed, the topics' offsets
continue from where they were, and `bookshelf audit` is clean.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from bookshelf_contracts import TOPICS
from confluent_kafka import Consumer, TopicPartition

from tests.e2e.system import RunningSystem, Shop, restart_system, start_system, system_home
from tests.e2e.test_cli_dlq import _mine, _produce_poison, _wait_mine

BURST = 12
MODES = ("sigint", "sigkill-all", "sigkill-supervisor")
SETTLED = {"AWAITING_DISPATCH"}  # stock is plenty and addresses deliverable: nothing is cancelled


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with system_home("bookshelf-restart") as path:
        yield path


def end_offsets(system: RunningSystem) -> dict[tuple[str, int], int]:
    consumer = Consumer({"bootstrap.servers": system.kafka_bootstrap, "group.id": "restart-offsets"})
    try:
        return {
            (spec.name, p): consumer.get_watermark_offsets(TopicPartition(spec.name, p), timeout=30)[1]
            for spec in TOPICS
            for p in range(spec.partitions)
        }
    finally:
        consumer.close()


def tree(system: RunningSystem) -> list[psutil.Process]:
    """`bookshelf run`, its children (services, broker, watchdog) and the PostgreSQL postmaster."""
    root = psutil.Process(system.process.pid)
    processes = [root, *root.children(recursive=True)]
    pid_file = system.home / "postgres" / "postmaster.pid"
    if pid_file.exists():
        processes.append(psutil.Process(int(pid_file.read_text().split()[0])))
    return processes


def gone(processes: list[psutil.Process]) -> list[psutil.Process]:
    """The processes of ``processes`` still alive (zombies count as gone)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


async def stop(system: RunningSystem, mode: str) -> None:
    processes = tree(system)
    if mode == "sigint":
        assert system.stop() == 0, (system.home / "run.out").read_text()[-3000:]
    elif mode == "sigkill-all":
        for process in processes:
            os.kill(process.pid, signal.SIGKILL)
        system.process.wait(10)
    else:
        system.process.kill()
        system.process.wait(10)

    async def all_gone() -> bool:
        left = [(p.pid, " ".join(p.cmdline())[:160]) for p in gone(processes)]
        assert not left, f"still running after {mode}: {left}"
        return True

    await Shop.wait_for(all_gone, f"processes outlived `bookshelf run` ({mode})", within=90)


async def in_flight(shop: Shop, books: list[str]) -> list[str]:
    """Place a burst of orders concurrently, without waiting for their sagas."""
    placed = await asyncio.gather(*(shop.place_order([(books[n % len(books)], 1)]) for n in range(BURST)))
    return [order["order_id"] for order in placed]


async def progressed(shop: Shop, order_ids: list[str]) -> None:
    async def settled() -> bool:
        states = {o: (await shop.saga(o))["state"] for o in order_ids}
        stuck = {o: s for o, s in states.items() if s not in SETTLED}
        assert not stuck, f"sagas not settled: {stuck}"
        return True

    await shop.wait_for(settled, "orders placed before the restart did not progress after it", within=180)


@pytest.mark.timeout(1200)
async def test_restarts_lose_no_order_saga_dead_letter_or_offset(home: Path) -> None:
    system = start_system(home, env={"INVENTORY_INITIAL_STOCK": "1000"})  # stock for every round
    try:
        async with httpx.AsyncClient(timeout=15.0) as client:
            shop = Shop(system, client)
            books = [await shop.add_book(f"Restart {n}", price="7.50") for n in range(3)]
            for mode in MODES:
                waiting = (await shop.place_order([(books[0], 1)]))["order_id"]
                await shop.wait_saga(waiting, "AWAITING_DISPATCH", within=60)
                key = f"restart-poison-{uuid.uuid4()}"
                _produce_poison(system, key)
                letters = {e["id"] for e in await _wait_mine(system, key, replay_count=0)}
                burst = await in_flight(shop, books)
                offsets = end_offsets(system)

                await stop(system, mode)
                system = restart_system(system)
                shop.system = system

                assert (await shop.saga(waiting))["state"] == "AWAITING_DISPATCH", mode
                assert letters <= {e["id"] for e in _mine(system, key)}, f"dead letter lost ({mode})"
                after = end_offsets(system)
                went_back = {tp: (n, after[tp]) for tp, n in offsets.items() if after[tp] < n}
                assert not went_back, f"offsets started again after {mode}: {went_back}"
                assert sum(after.values()) > 0
                await progressed(shop, burst)
                shipment = await shop.shipment(waiting)
                await shop.staff_move(shipment["shipment_id"], "dispatch")
                await shop.wait_order(waiting, "SHIPPED", within=60)
                await shop.staff_move(shipment["shipment_id"], "deliver")
                await shop.wait_order(waiting, "DELIVERED", within=60)
                await shop.wait_saga(waiting, "DELIVERED", within=60)
                audit = system.cli("audit", "--json")
                assert audit.returncode == 0, (
                    f"audit after {mode}: {audit.stdout[-3000:]} {audit.stderr[-2000:]}"
                )
                assert orjson.loads(audit.stdout)["violations"] == [], mode
    finally:
        system.stop()
