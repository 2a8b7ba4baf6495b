"""Messaging throughput: outbox relay (commit -> broker ack) and consumer runner (inbox + upsert).

    uv run python bench/messaging_bench.py [--events 50000] [--runs 3]

Starts an embedded broker and PostgreSQL (durable defaults) on free ports, then per run:
(a) relay: commits N outbox rows in one transaction while an active relay waits, and measures from
    the commit to the broker's last delivery report (and to the last "published" mark);
(b) consumer: with a runner joined to a 6-partition topic, produces N envelopes and measures from
    the first produce to the last handled message (inbox row + one upsert per event, committed).
Prints medians with min/max and the peak RSS of each process; writes bench/results/messaging-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from bookshelf_contracts import BookAdded, Envelope, Message, Money
from bookshelf_infra.kafka import EmbeddedKafka
from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_infra.testing import free_port
from bookshelf_messaging import (
    BatchHandler,
    ConsumerRunner,
    KafkaSettings,
    Outbox,
    OutboxRelay,
    create_engine,
    create_session_factory,
    create_topic,
    install,
    outbox_stats,
)
from confluent_kafka import Producer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

RESULTS = Path(__file__).parent / "results"
KEYS = 1000  # distinct book ids: the consumer's upsert table stays small


class RssSampler:
    """Samples the RSS of named process trees every 50 ms in a thread; keeps the peak of each."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _tree_rss(self, pid: int) -> float:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total / 2**20

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            for name, pid in list(self.roots.items()):  # members are added while sampling
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), self._tree_rss(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


# CPU seconds per process tree, to report CPU per event: unlike wall time it barely moves when other
# work on a shared machine competes for the cores.
CPU_ROOTS: dict[str, int] = {}


def _tree_cpu(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system  # + exited backends
    return total


def cpu_snapshot() -> dict[str, float]:
    return {name: _tree_cpu(pid) for name, pid in CPU_ROOTS.items()}


def cpu_per_event(before: dict[str, float], events: int) -> dict[str, float]:
    """CPU microseconds per event spent by each process tree since ``before``."""
    after = cpu_snapshot()
    used = {f"cpu_us_per_event_{name}": (after[name] - before[name]) / events * 1e6 for name in before}
    used["cpu_us_per_event_total"] = sum(used.values())
    return used


def book(book_id: uuid.UUID, n: int) -> BookAdded:
    return BookAdded(
        book_id=book_id,
        title=f"Book {n}",
        author="Bench Author",
        price=Money(amount=Decimal("12.50"), currency="USD"),
        version=1,
    )


async def _wait(check: Callable[[], Any], within: float, what: str) -> None:
    """Poll ``check`` (sync or async) every 2 ms until true (a deadline, never a blind sleep)."""
    deadline = time.perf_counter() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} not reached in {within:g} s")
        await asyncio.sleep(0.002)


async def _fresh_db(pg: EmbeddedPostgres, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await pg.create_database_async(name)
    return pg.sqlalchemy_url(name)


# --- (a) relay ----------------------------------------------------------------------------------------
class AckCounter:
    """The relay's ``after_publish`` hook: counts acknowledged rows and when the last ack came."""

    def __init__(self) -> None:
        self.acked = 0
        self.last_ack = 0.0

    def __call__(self, ids: Sequence[int]) -> None:
        self.acked += len(ids)
        self.last_ack = time.perf_counter()


async def _start_relay(
    url: str, kafka: KafkaSettings, topic: str, acks: AckCounter
) -> tuple[OutboxRelay, asyncio.Task[None]]:
    """An active relay whose producer already has its id and the topic's metadata (one warm-up row)."""
    relay = OutboxRelay(url, service="bench", kafka=kafka, after_publish=acks)
    task = asyncio.create_task(relay.run())
    await _wait(lambda: relay.is_active, 30, "relay active")
    engine = create_engine(url)
    async with create_session_factory(engine)() as session, session.begin():
        await Outbox("bench").add(session, book(uuid.uuid4(), 0), topic=topic)
    await engine.dispose()
    await _wait(lambda: acks.acked >= 1, 30, "warm-up ack")
    acks.acked = 0
    return relay, task


async def relay_run(pg: EmbeddedPostgres, kafka: KafkaSettings, events: int) -> dict[str, float]:
    url = await _fresh_db(pg, "bench_relay")
    engine = create_engine(url)
    await install(engine)
    topic = f"bench_relay_{uuid.uuid4().hex[:8]}"
    await create_topic(kafka, topic, 6)
    acks = AckCounter()
    relay, task = await _start_relay(url, kafka, topic, acks)
    ids = [uuid.uuid4() for _ in range(KEYS)]
    messages = [book(ids[i % KEYS], i) for i in range(events)]
    started = time.perf_counter()
    async with create_session_factory(engine)() as session, session.begin():
        await Outbox("bench").add_many(session, messages, topic=topic)
    committed = time.perf_counter()
    cpu_started = cpu_snapshot()
    await _wait(lambda: acks.acked >= events, 300, "all acks")
    cpu_used = cpu_per_event(cpu_started, events)
    async with engine.connect() as conn:

        async def drained() -> bool:
            return (await outbox_stats(conn))[0] == 0

        await _wait(drained, 120, "all rows marked published")
    marked = time.perf_counter()
    relay.stop()
    await task
    await engine.dispose()
    return {
        "insert_s": committed - started,
        "commit_to_last_ack_s": acks.last_ack - committed,
        "commit_to_all_marked_s": marked - committed,
        "events_per_s": events / (acks.last_ack - committed),
        **cpu_used,
    }


# --- (b) consumer -------------------------------------------------------------------------------------
UPSERT = sa.text(
    "INSERT INTO stock_view (book_id, events) VALUES (:book_id, 1) "
    "ON CONFLICT (book_id) DO UPDATE SET events = stock_view.events + 1"
)


CALLS = [0]  # handler calls: cheap to poll (the committed count comes from the runner's metric)


async def _upsert_batch(batch: Sequence[tuple[Message, Envelope]], session: AsyncSession) -> None:
    """One upsert per event, sent as one pipelined executemany per partition batch."""
    rows = [{"book_id": message.book_id} for message, _ in batch if isinstance(message, BookAdded)]
    await session.execute(UPSERT, rows)
    CALLS[0] += len(batch)


upsert_handler = BatchHandler(_upsert_batch)


def _records(events: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    ids = [uuid.uuid4() for _ in range(KEYS)]
    out = []
    for i in range(events):
        book_id = ids[i % KEYS]
        envelope = Envelope.wrap(book(book_id, i), producer="bench", correlation_id=str(uuid.uuid4()))
        out.append((str(book_id).encode(), envelope.to_json(), envelope.kafka_headers()))
    return out


def _produce_all(
    kafka: KafkaSettings, topic: str, records: list[tuple[bytes, bytes, Any]], *, spread: bool = False
) -> None:
    """Produce and flush; ``spread`` sends record i to partition i (warming up every member)."""
    producer = Producer({**kafka.confluent_producer_config(), "linger.ms": 5, "acks": "all"})
    for i, (key, value, headers) in enumerate(records):
        extra = {"partition": i} if spread else {}
        while True:
            try:
                producer.produce(topic, value=value, key=key, headers=headers, **extra)
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(60):
        raise RuntimeError("records left unsent")


def _handled(group: str, topic: str) -> float:
    labels = {"group": group, "topic": topic, "outcome": "handled"}
    return REGISTRY.get_sample_value("bookshelf_consumer_messages_total", labels) or 0.0


async def consumer_run(pg: EmbeddedPostgres, kafka: KafkaSettings, events: int) -> dict[str, float]:
    url = await _fresh_db(pg, "bench_consumer")
    engine = create_engine(url)
    await install(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE stock_view (book_id uuid PRIMARY KEY, events int NOT NULL)"))
    topic = f"bench_consumer_{uuid.uuid4().hex[:8]}"
    await create_topic(kafka, topic, 6)
    await create_topic(kafka, f"{topic}.dlq", 6, compacted=True)
    group = f"bench.{uuid.uuid4().hex[:8]}"
    CALLS[0] = 0
    runner = ConsumerRunner(
        group, [topic], {"BookAdded": upsert_handler}, create_session_factory(engine), kafka
    )
    task = asyncio.create_task(runner.run())
    records = _records(events + 1)
    await asyncio.to_thread(_produce_all, kafka, topic, records[:1])  # warm-up: wait for the group join
    await _wait(lambda: _handled(group, topic) >= 1, 60, "warm-up message handled")
    started = time.perf_counter()
    cpu_started = cpu_snapshot()
    await asyncio.to_thread(_produce_all, kafka, topic, records[1:])
    produced = time.perf_counter()
    await _wait(lambda: CALLS[0] >= events + 1, 300, "all handler calls")
    await _wait(lambda: _handled(group, topic) >= events + 1, 60, "all handled and committed")
    finished = time.perf_counter()
    cpu_used = cpu_per_event(cpu_started, events)
    runner.stop()
    await task
    async with engine.connect() as conn:
        total = await conn.scalar(sa.text("SELECT sum(events) FROM stock_view"))
        inbox = await conn.scalar(sa.text("SELECT count(*) FROM inbox"))
    await engine.dispose()
    if total != events + 1 or inbox != events + 1:
        raise AssertionError(f"expected {events + 1} upserts and inbox rows, got {total} and {inbox}")
    return {
        "produce_s": produced - started,
        "first_produce_to_last_handled_s": finished - started,
        "events_per_s": events / (finished - started),
        **cpu_used,
    }


# --- (c) consumer scale-out: N member processes in one group -----------------------------------------
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
        state = (len(runner.assignment()), int(_handled(group, topic)))
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
            sys.executable, __file__, "--member", *args, stdout=asyncio.subprocess.PIPE
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
    url = await _fresh_db(pg, "bench_scaleout")
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
        await _wait(lambda: all(p > 0 for p, _ in states) and sum(p for p, _ in states) == 6, 180, "group")
        records = _records(events + 6)
        await asyncio.to_thread(_produce_all, kafka, topic, records[:6], spread=True)
        await _wait(lambda: sum(h for _, h in states) >= 6, 60, "warm-up handled by every member")
        started = time.perf_counter()
        cpu_started = cpu_snapshot()
        await asyncio.to_thread(_produce_all, kafka, topic, records[6:])
        await _wait(lambda: sum(h for _, h in states) >= events + 6, 300, "all handled")
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


# --- driver -------------------------------------------------------------------------------------------
def _summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


PHASES = ("relay", "consumer", "scaleout")


async def _bench(
    pg: EmbeddedPostgres, kafka: KafkaSettings, args: argparse.Namespace, rss: RssSampler
) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {phase: [] for phase in PHASES}
    for i in range(args.runs):
        runs["relay"].append(await relay_run(pg, kafka, args.events))
        runs["consumer"].append(await consumer_run(pg, kafka, args.events))
        if args.members > 1:
            runs["scaleout"].append(await scaleout_run(pg, kafka, args.events, args.members, rss))
        done = "  ".join(f"{p} {r[-1]['events_per_s']:>8,.0f}/s" for p, r in runs.items() if r)
        print(f"run {i + 1}: {done}", flush=True)
    return {phase: r for phase, r in runs.items() if r}


def _postmaster_pid(datadir: Path) -> int:
    return int((datadir / "postmaster.pid").read_text().splitlines()[0])


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--members", type=int, default=2, help="group members (processes) for the scale-out run; 1 skips it"
    )
    parser.add_argument(
        "--member", nargs=4, metavar=("URL", "BOOTSTRAP", "TOPIC", "GROUP"), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    """Start the servers, run every phase ``args.runs`` times, stop the servers."""
    with tempfile.TemporaryDirectory(prefix="bench-messaging-") as tmp:
        broker = EmbeddedKafka(port=free_port(), die_with_parent=True)
        pg = EmbeddedPostgres(Path(tmp) / "pg", port=free_port())  # durable defaults (fsync on)
        broker.start()
        pg.start()
        try:
            CPU_ROOTS.update(bench=os.getpid(), broker=broker.pid or 0, postgres=_postmaster_pid(pg.datadir))
            roots = {"bench (relay + runner)": os.getpid(), "broker": CPU_ROOTS["broker"]}
            roots["postgres (all backends)"] = CPU_ROOTS["postgres"]
            kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
            load_before = os.getloadavg()
            with RssSampler(roots) as rss:
                runs = asyncio.run(_bench(pg, kafka, args, rss))
            # The machine is shared: a load average above nproc means other work competed for cores.
            load = {"before": load_before, "after": os.getloadavg()}
        finally:
            pg.stop()
            broker.stop()
    return {
        "runs": runs,
        "load_avg_1_5_15": load,
        **{f"{phase}_events_per_s": _summary([r["events_per_s"] for r in rs]) for phase, rs in runs.items()},
        "peak_rss_mb": {name: round(mb, 1) for name, mb in rss.peak_mb.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.member:  # a child process of the scale-out run
        asyncio.run(member_main(*args.member))
        return 0
    # `timeout` and Ctrl-C must still stop the servers: SIGTERM becomes SystemExit, so the finally
    # blocks run (the broker also dies with this thread; PostgreSQL is stopped explicitly).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = {
        "benchmark": "messaging",
        "command": "uv run python bench/messaging_bench.py " + " ".join(sys.argv[1:]),
        "at": datetime.now(UTC).isoformat(),
        "machine": {"nproc": os.cpu_count(), "cpu": _cpu_model(), "python": platform.python_version()},
        "events": args.events,
        "members": args.members,
        **_measure(args),
        "targets": {"relay_events_per_s": 15_000, "consumer_events_per_s": 8_000},
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"messaging-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2))
    _print(report, out)
    return 0


def _print(report: dict[str, Any], out: Path) -> None:
    machine, load = report["machine"], report["load_avg_1_5_15"]
    print(
        f"\nmessaging: {report['events']:,} events x {len(report['runs']['relay'])} runs, "
        f"{machine['nproc']} cpu ({machine['cpu']}), load avg {load['before'][0]:.1f} -> {load['after'][0]:.1f}"
    )
    for phase in report["runs"]:
        s = report[f"{phase}_events_per_s"]
        label = f"scale-out ({report['members']} members)" if phase == "scaleout" else phase
        target = report["targets"].get(f"{phase}_events_per_s")
        print(
            f"  {label:<24} median {s['median']:>8,.0f}/s  (min {s['min']:,.0f}, max {s['max']:,.0f})"
            + (f"  target {target:,}/s" if target else "")
        )
        cpu = {k: statistics.median(r[k] for r in report["runs"][phase]) for k in report["runs"][phase][0]}
        print(
            f"  {'':<24} CPU per event: {cpu['cpu_us_per_event_total']:.0f} us (python "
            f"{cpu['cpu_us_per_event_bench']:.0f}, postgres {cpu['cpu_us_per_event_postgres']:.0f}, "
            f"broker {cpu['cpu_us_per_event_broker']:.0f})"
        )
    for proc, mb in report["peak_rss_mb"].items():
        print(f"  peak RSS {proc}: {mb:,.0f} MB")
    print(f"  wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
