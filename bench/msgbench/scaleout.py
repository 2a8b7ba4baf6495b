"""(c) Consumer scale-out: N member processes (this script again, with ``--member``) in one group."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_messaging import (
    ConsumerRunner,
    KafkaSettings,
    create_engine,
    create_session_factory,
    create_topic,
    install,
)

from .consumer import handled_count, make_records, produce_all, upsert_handler
from .probes import RssSampler, cpu_per_event, cpu_snapshot, fresh_db, wait_for

# The member processes run the benchmark's script (its ``--member`` option).
SCRIPT = Path(__file__).resolve().parents[1] / "messaging_bench.py"


async def member_main(url: str, bootstrap: str, topic: str, group: str) -> None:
    """A group member process: runs a runner and prints ``<partitions> <handled>`` when they change."""
    engine = create_engine(url)
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    runner = ConsumerRunner(
        group, [topic], {"BookAdded": upsert_handler}, create_session_factory(engine), kafka
    )
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, runner.stop)
    task = asyncio.create_task(runner.run())
    last = (-1, -1)
    while not task.done():
        state = (len(runner.assignment()), int(handled_count(group, topic)))
        if state != last:
            print("STATE", *state, flush=True)
            last = state
        await asyncio.sleep(0.01)
    await task
    await engine.dispose()


async def _spawn_members(
    n: int, args: list[str], states: list[tuple[int, int]], rss: RssSampler
) -> list[Any]:
    procs = []
    for i in range(n):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), "--member", *args, stdout=asyncio.subprocess.PIPE
        )
        rss.roots[f"member {i + 1}"] = proc.pid
        procs.append(proc)

        async def follow(stream: asyncio.StreamReader, index: int) -> None:
            async for line in stream:  # other lines are the member's logs
                if line.startswith(b"STATE "):
                    _, parts, handled = line.split()
                    states[index] = (int(parts), int(handled))

        asyncio.get_running_loop().create_task(follow(proc.stdout, i))  # type: ignore[arg-type]
    return procs


async def scaleout_run(
    pg: EmbeddedPostgres, kafka: KafkaSettings, events: int, members: int, rss: RssSampler
) -> dict[str, float]:
    url = await fresh_db(pg, "bench_scaleout")
    engine = create_engine(url)
    await install(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE stock_view (book_id uuid PRIMARY KEY, events int NOT NULL)"))
    await engine.dispose()
    topic = f"bench_scaleout_{uuid.uuid4().hex[:8]}"
    await create_topic(kafka, topic, 6)
    await create_topic(kafka, f"{topic}.dlq", 6, compacted=True)
    states = [(0, 0)] * members
    procs = await _spawn_members(
        members, [url, kafka.bootstrap_servers, topic, f"bench.scaleout.{uuid.uuid4().hex[:8]}"], states, rss
    )
    try:
        # Every member owns partitions and the group is stable before the clock starts.
        await wait_for(lambda: all(p > 0 for p, _ in states) and sum(p for p, _ in states) == 6, 180, "group")
        records = make_records(events + 6)
        await asyncio.to_thread(produce_all, kafka, topic, records[:6], spread=True)
        await wait_for(lambda: sum(h for _, h in states) >= 6, 60, "warm-up handled by every member")
        started = time.perf_counter()
        cpu_started = cpu_snapshot()
        await asyncio.to_thread(produce_all, kafka, topic, records[6:])
        await wait_for(lambda: sum(h for _, h in states) >= events + 6, 300, "all handled")
        finished = time.perf_counter()
        cpu_used = cpu_per_event(cpu_started, events)  # "bench" includes the member processes
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await proc.wait()
    return {
        "first_produce_to_last_handled_s": finished - started,
        "events_per_s": events / (finished - started),
        **cpu_used,
    }
