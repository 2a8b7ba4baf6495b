"""Messaging throughput: outbox relay (commit -> broker ack) and consumer runner (inbox + upsert).

`bench/messaging_bench.py`: options, the runs of every phase, the result document and its table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bookshelf_infra.kafka import LocalKafka
from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_infra.testing import free_port
from bookshelf_messaging import KafkaSettings

from .consumer import consumer_run
from .probes import CPU_ROOTS, RssSampler
from .relay import relay_run
from .scaleout import member_main, scaleout_run

RESULTS = Path(__file__).resolve().parents[1] / "results"


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
        broker = LocalKafka(
            Path(tmp) / "kafka", port=free_port(), controller_port=free_port(), die_with_parent=True
        )
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
