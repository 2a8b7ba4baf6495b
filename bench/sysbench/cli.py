"""`bench/system_bench.py`: options, the order of the work, the result document."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bookshelf_infra.otlp import otlp_receiver

from . import report
from .loadgen import calibrate, client
from .procs import SYSTEM, ProcessMonitor
from .scenarios import Bench, Settings
from .specials import bulk_import, burst, flash_sale
from .target import Target, attach, start_embedded
from .watcher import Tracker

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
SCENARIOS = ("burst", "flash", "import")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="system_bench.py", description="End-to-end benchmark of the whole system."
    )
    p.add_argument(
        "--attach", action="store_true", help="use a running system (addresses from the environment)"
    )
    p.add_argument("--host", default="127.0.0.1", help="host of the running system's services (--attach)")
    p.add_argument("--pid", type=int, help="pid of its `bookshelf run` (--attach; found when omitted)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--books", type=int, default=200)
    p.add_argument("--step-s", type=float, default=5.0, help="seconds of load per step")
    p.add_argument("--grace-s", type=float, default=5.0, help="wait for fulfilment after a step")
    p.add_argument("--slo-p99-ms", type=float, default=1000.0, help="a sustained step keeps p99 under this")
    p.add_argument("--read-rate", type=float, default=20.0, help="GET /storefront per s during latency steps")
    p.add_argument("--steady-rate", type=float, default=100.0)
    p.add_argument(
        "--ramp", default="10,20,35,50,75,100,150,200,300,400,550,750", help="rates tried by run 1"
    )
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"any of {','.join(SCENARIOS)} (or none)")
    p.add_argument("--burst-orders", type=int, default=1000)
    p.add_argument("--flash-orders", type=int, default=1000)
    p.add_argument("--flash-copies", type=int, default=100)
    p.add_argument("--import-rows", type=int, default=50_000)
    p.add_argument("--import-rate", type=float, default=50.0)
    p.add_argument("--import-s", type=float, default=20.0)
    p.add_argument("--calibrate", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument(
        "--tracing",
        action="store_true",
        help="export OpenTelemetry traces from every process to an OTLP receiver in this process",
    )
    p.add_argument(
        "--docs", action=argparse.BooleanOptionalAction, default=True, help="update docs/benchmarks.md"
    )
    p.add_argument("--out", type=Path, help="result file (default bench/results/system-<timestamp>.json)")
    return p.parse_args(argv)


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings(
        books=args.books,
        step_s=args.step_s,
        grace_s=args.grace_s,
        slo_p99_s=args.slo_p99_ms / 1000,
        read_rate=args.read_rate,
        steady_rate=args.steady_rate,
        ramp=tuple(float(r) for r in args.ramp.split(",") if r),
    )


async def measure(target: Target, args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Everything the document holds except the machine description and the verdicts."""
    prefix = f"bench-{secrets.token_hex(3)}-"
    wanted = {s.strip() for s in args.scenarios.split(",")} & set(SCENARIOS)
    doc: dict[str, Any] = {"scenarios": {}}
    with (
        ProcessMonitor(target.root_pid, also=[p for p in [target.postmaster_pid] if p]) as monitor,
        Tracker(target.kafka, prefix, target.storefront_dsn) as tracker,
    ):
        await asyncio.sleep(3)  # idle: nothing asked of the system since it was ready
        idle = monitor.sample(pss=True).get(SYSTEM, (0.0, 0.0))
        async with client() as http:
            bench = Bench(target, tracker, monitor, http, settings, prefix)
            if args.calibrate:
                doc["generator"] = await calibrate()
                print(f"load generator: {doc['generator']}", flush=True)
            await bench.seed()
            window = monitor.window()
            runs: list[dict[str, Any]] = []
            for index in range(1, args.runs + 1):
                runs.append(await bench.run(index, runs[0]["max_rate"] if runs else None))
            await bench.settle()
            doc["status_after_runs"] = _status(target)
            if "burst" in wanted:
                doc["scenarios"]["burst"] = await burst(bench, args.burst_orders, 1.0)
            if "flash" in wanted:
                doc["scenarios"]["flash_sale"] = await flash_sale(bench, args.flash_orders, args.flash_copies)
            if "import" in wanted:
                doc["scenarios"]["bulk_import"] = await bulk_import(
                    bench, args.import_rows, args.import_rate, args.import_s
                )
                doc["status_after_import"] = _status(target)
            usage = monitor.close(window)
    doc["runs_detail"] = runs
    doc["memory"] = {
        "idle_rss_mb": idle[0],
        "idle_pss_mb": idle[1],
        "peak_rss_mb": usage["peak_rss_mb"].get(SYSTEM, 0.0),
        "peak_pss_mb": usage["peak_pss_mb"].get(SYSTEM, 0.0),
        "peak_by_process_rss_mb": usage["peak_rss_mb"],
        "peak_by_process_pss_mb": usage["peak_pss_mb"],
    }
    doc["bench_cpu_s"] = usage["cpu_s"].get("bench")
    return doc


def _status(target: Target) -> Any:
    """`bookshelf status --json` (outbox backlog, consumer lag), or the error text."""
    try:
        text = target.status_json()
        return json.loads(text)
    except Exception as exc:  # a report without status is still a report
        return {"error": repr(exc)}


def verdicts(doc: dict[str, Any]) -> dict[str, str]:
    s, mem = doc["summary"], doc["memory"]

    def judge(value: float | None, ok: bool, unit: str = "") -> str:
        return "-" if value is None else f"{value:g}{unit} ({'met' if ok else 'NOT met'})"

    top = s["fulfilled_per_s_at_max"]["median"]
    p99, post = s["steady"]["p99_ms"]["median"], s["steady"]["post_p99_ms"]["median"]
    ratio = doc["scenarios"].get("bulk_import", {}).get("p99_ratio")
    return {
        "sustained fulfilled orders/s": judge(top, top is not None and top >= 300),
        "p99 POST->fulfilled at 100/s": judge(p99, p99 is not None and p99 <= 150, " ms"),
        "POST /orders p99 at 100/s": judge(post, post is not None and post <= 25, " ms"),
        "order p99 with / without import": judge(ratio, ratio is not None and ratio <= 1.5, "x"),
        "idle memory (`make run`)": judge(round(mem["idle_pss_mb"]), mem["idle_pss_mb"] < 1536, " MiB PSS")
        + f"; RSS sum {mem['idle_rss_mb']:.0f} MiB",
        "peak memory under load": judge(round(mem["peak_pss_mb"]), mem["peak_pss_mb"] < 2560, " MiB PSS")
        + f"; RSS sum {mem['peak_rss_mb']:.0f} MiB",
    }


def finish(
    doc: dict[str, Any], args: argparse.Namespace, argv: Sequence[str], load_before: list[float]
) -> None:
    """Add the machine, settings, summary (medians) and target verdicts to a measured document."""
    doc |= {
        "benchmark": "system",
        "command": " ".join(["python bench/system_bench.py", *argv]),
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": report.machine(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "runs": args.runs,
        "settings": asdict(settings_of(args)),
    }
    doc["summary"] = report.summarize(doc["runs_detail"])
    doc["targets"] = verdicts(doc)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally-blocks stop the system
    args = parse(argv)
    if args.tracing:  # a comparison run: docs/benchmarks.md's System block stays the untraced one
        args.docs = False
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bookshelf-bench-") as home, contextlib.ExitStack() as stack:
        if args.attach:
            target = attach(args.host, args.pid)
        else:
            env = {}
            if args.tracing:  # the spans' cost without a collector's: the receiver only parses them
                receiver = stack.enter_context(otlp_receiver())
                env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
            print("starting the system (bookshelf run: local Kafka and PostgreSQL) ...", flush=True)
            target = start_embedded(Path(home), env=env)
            print(f"ready after {time.monotonic() - started:.0f} s", flush=True)
        try:
            import uvloop

            doc = uvloop.run(measure(target, args, settings_of(args)))
        finally:
            target.stop()
    finish(doc, args, argv, load_before)
    doc["wall_s"] = round(time.monotonic() - started, 1)
    out = args.out or RESULTS / f"system-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, default=str))
    table = report.markdown(doc)
    print(table)
    print(f"\nwritten {out} ({doc['wall_s']} s)")
    if args.docs:
        report.update_docs(DOCS, table)
    return 0
