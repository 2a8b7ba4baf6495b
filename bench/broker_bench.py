"""The local Apache Kafka broker: start time, idle memory and CPU, end-to-end latency.

For each of ``--runs`` runs, on a new data folder: time to the first Metadata answer on the first
start (which formats the storage) and on a restart; then, with ``--consumers`` idle consumer groups
polling as the services do (aiokafka, the services' fetch wait), the broker's CPU and memory (RSS and
PSS) over ``--idle-seconds``; then ``--messages`` records produced at ``--rate`` per second
(acks=all) to a group member, whose receive time minus the produce time is the end-to-end latency.
Prints medians over the runs with min and max, and writes bench/results/broker.json.

    uv run python bench/broker_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from bookshelf_infra.kafka import LocalKafka
from bookshelf_infra.testing import free_port
from bookshelf_messaging import KafkaSettings, create_topic

RESULTS = Path(__file__).parent / "results" / "broker.json"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--consumers", type=int, default=10, help="idle consumer groups during the idle phase"
    )
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="records per second in the latency phase")
    return parser.parse_args(argv)


def pss_mb(pid: int) -> float:
    try:
        return psutil.Process(pid).memory_full_info().pss / 2**20
    except (psutil.Error, AttributeError):
        return 0.0


async def idle_phase(broker: LocalKafka, args: argparse.Namespace) -> dict[str, float]:
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
    topics = [f"idle.{n}" for n in range(args.consumers)]
    for topic in topics:
        await create_topic(kafka, topic, partitions=6)
    consumers = [
        AIOKafkaConsumer(
            topic, **kafka.aiokafka_kwargs(), **kafka.consumer_kwargs(), group_id=f"idle-{topic}"
        )
        for topic in topics
    ]
    for consumer in consumers:
        await consumer.start()
    stop = asyncio.Event()

    async def poll(consumer: AIOKafkaConsumer) -> None:
        while not stop.is_set():
            await consumer.getmany(timeout_ms=100)

    pollers = [asyncio.create_task(poll(c)) for c in consumers]
    try:
        await asyncio.sleep(3.0)  # let the groups settle before the measured window
        process = psutil.Process(broker.pid)
        cpu_before, started = sum(process.cpu_times()[:2]), time.monotonic()
        await asyncio.sleep(args.idle_seconds)  # the measured window itself
        cpu = (sum(process.cpu_times()[:2]) - cpu_before) / (time.monotonic() - started)
        return {
            "idle_cpu_pct": 100 * cpu,
            "idle_rss_mb": process.memory_info().rss / 2**20,
            "idle_pss_mb": pss_mb(process.pid),
        }
    finally:
        stop.set()
        await asyncio.gather(*pollers)
        for consumer in consumers:
            await consumer.stop()


async def latency_phase(broker: LocalKafka, args: argparse.Namespace) -> dict[str, float]:
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
    await create_topic(kafka, "latency", partitions=6)
    consumer = AIOKafkaConsumer(
        "latency",
        **kafka.aiokafka_kwargs(),
        **kafka.consumer_kwargs(),
        group_id="latency",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    while not consumer.assignment():  # joined: the first records are not counted in the join
        await consumer.getmany(timeout_ms=100)
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all", linger_ms=0)
    await producer.start()
    latencies: list[float] = []

    async def receive() -> None:
        while len(latencies) < args.messages:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                now = time.time()
                latencies.extend(1000 * (now - float(r.value)) for r in records)

    receiver = asyncio.create_task(receive())
    try:
        for n in range(args.messages):
            await producer.send("latency", str(time.time()).encode(), key=str(n).encode())
            await asyncio.sleep(1 / args.rate)  # the offered rate
        await asyncio.wait_for(receiver, 60)
    finally:
        await producer.stop()
        await consumer.stop()
    cuts = statistics.quantiles(latencies, n=100)
    return {"e2e_p50_ms": statistics.median(latencies), "e2e_p99_ms": cuts[98]}


def one_run(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        broker = LocalKafka(Path(tmp), port=free_port(), controller_port=free_port(), die_with_parent=True)
        started = time.monotonic()
        broker.start()
        first = time.monotonic() - started
        broker.stop()
        started = time.monotonic()
        broker.start()
        restart = time.monotonic() - started
        try:
            result = {"first_start_s": first, "restart_s": restart}
            result |= asyncio.run(idle_phase(broker, args))
            result |= asyncio.run(latency_phase(broker, args))
            return result
        finally:
            broker.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    runs: list[dict[str, float]] = []
    for run in range(args.runs):
        runs.append(one_run(args))
        print(f"  run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()), flush=True)
    summary: dict[str, Any] = {}
    print(f"Apache Kafka {LocalKafka(Path('.')).version} on this machine, medians of {args.runs} runs:")
    for key in runs[0]:
        values = [r[key] for r in runs]
        summary[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        print(f"  {key:<16} {summary[key]['median']:8.1f}   (min {min(values):.1f}, max {max(values):.1f})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "runs": runs, "summary": summary}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
