"""Saga latency per hop: from an input event's record to the command record it caused.

    uv run python bench/saga_hops.py [--orders 40] [--rate 4]

Starts `bookshelf run` (catalog, ordering, inventory, shipping, fulfillment) on free ports, places
``--orders`` one-line orders at ``--rate`` per second, dispatches and delivers every shipment, then
reads the saga's input and command topics from the beginning and joins each command to its cause
(the command's ``causation_id`` is the input's ``message_id``). A hop is the command record's
timestamp minus the cause's (both CreateTime, set by the producing client: the relays, and the saga
worker or its relay), so it spans the fetch, the saga's step and the publish of the command.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.system import ADMIN, RunningSystem, Shop, start_system, system_home

INPUTS = ("ordering.orders", "inventory.reservations", "shipping.shipments")
COMMANDS = ("inventory.commands", "ordering.commands", "shipping.commands")
SERVICES = ["catalog", "ordering", "inventory", "shipping", "fulfillment"]


async def drive(system: RunningSystem, orders: int, rate: float) -> None:
    """Place the orders, then dispatch and deliver each one's shipment."""
    async with httpx.AsyncClient(timeout=20.0) as client:
        shop = Shop(system, client)
        book = await shop.add_book("Hops")
        restock = f"{system.url('inventory')}/inventory/{book}/restock"
        answer = await client.post(restock, json={"quantity": orders * 2}, headers=ADMIN)
        assert answer.status_code == 200, answer.text
        placed = []
        for _ in range(orders):
            placed.append((await shop.place_order([(book, 1)]))["order_id"])
            await asyncio.sleep(1 / rate)  # open-loop pacing of the load, not a wait for a result
        for order_id in placed:
            await shop.wait_saga(order_id, "AWAITING_DISPATCH", within=120)
        for action, state in (("dispatch", "SHIPPED"), ("deliver", "DELIVERED")):
            for order_id in placed:
                shipment = await shop.shipment(order_id)
                await shop.staff_move(shipment["shipment_id"], action)
                await asyncio.sleep(1 / rate)
            for order_id in placed:
                await shop.wait_saga(order_id, state, within=120)


def read_records(bootstrap: str) -> list[tuple[str, dict[str, Any], int]]:
    """(topic, envelope, timestamp ms) of every record of the inputs and command topics."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "saga-hops", "enable.auto.commit": False}
    )
    try:
        metadata = consumer.list_topics(timeout=30)
        tps = [
            TopicPartition(name, p, OFFSET_BEGINNING)
            for name in (*INPUTS, *COMMANDS)
            for p in metadata.topics[name].partitions
        ]
        ends = {(tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=30)[1] for tp in tps}
        consumer.assign(tps)
        remaining = {k for k, end in ends.items() if end > 0}
        found = []
        while remaining:
            msg = consumer.poll(5.0)
            if msg is None or msg.error():
                continue
            found.append((msg.topic(), orjson.loads(msg.value()), msg.timestamp()[1]))
            if msg.offset() + 1 >= ends[(msg.topic(), msg.partition())]:
                remaining.discard((msg.topic(), msg.partition()))
        return found
    finally:
        consumer.close()


def hops(records: list[tuple[str, dict[str, Any], int]]) -> dict[str, list[float]]:
    """Milliseconds per hop ``<input type> -> <command type>``."""
    inputs = {env["message_id"]: (env["type"], ts) for topic, env, ts in records if topic in INPUTS}
    found: dict[str, list[float]] = defaultdict(list)
    for topic, env, ts in records:
        cause = inputs.get(env.get("causation_id") or "")
        if topic in COMMANDS and cause is not None:
            found[f"{cause[0]} -> {env['type']}"].append(ts - cause[1])
    return found


def report(found: dict[str, list[float]]) -> None:
    print(f"{'hop':45} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for hop, values in sorted(found.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"{hop:45} {len(values):4d} {statistics.median(values):8.1f} {p95:8.1f} {values[-1]:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--rate", type=float, default=4.0, help="orders (and staff moves) per second")
    args = parser.parse_args()
    with system_home("bookshelf-saga-hops") as home:
        system = start_system(home, services=SERVICES, env={"BOOKSHELF_ENV": "dev"})
        try:
            asyncio.run(drive(system, args.orders, args.rate))
            report(hops(read_records(system.kafka_bootstrap)))
        finally:
            system.stop()


if __name__ == "__main__":
    main()
