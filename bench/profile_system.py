"""Where the CPU goes: py-spy profiles of every service process under a steady order load.

    uv pip install py-spy        # ad hoc: a profiler, not a dependency of the workspace
    uv run python bench/profile_system.py [--rate 60] [--seconds 20] [--attach] [--books 200]

Starts the system like bench/system_bench.py (or attaches to a running one), seeds books, offers
``--rate`` orders/s and, after a few seconds of warm-up, samples every service process with
``py-spy record --nonblocking`` for ``--seconds``. Prints per process: CPU ms per fulfilled order,
the share of samples by package where the time is spent (self time: the innermost frame's package)
and by layer (inclusive: any frame of the stack in that package), and the top functions. Nothing is
written to the repository: findings belong in docs/benchmarks.md as tables.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sysbench.loadgen import client, open_loop
from sysbench.procs import ProcessMonitor
from sysbench.scenarios import Bench, Settings
from sysbench.target import Target, attach, start_embedded
from sysbench.watcher import Tracker

LAYERS = {  # label: path fragments of the package (inclusive attribution)
    "sqlalchemy": ("/sqlalchemy/",),
    "asyncpg": ("/asyncpg/",),
    "pydantic": ("/pydantic/", "/pydantic_core/"),
    "aiokafka": ("/aiokafka/",),
    "confluent_kafka": ("/confluent_kafka/",),
    "faust+mode": ("/faust/", "/mode/"),
    "fastapi+starlette": ("/fastapi/", "/starlette/"),
    "uvicorn": ("/uvicorn/",),
    "logging (structlog)": ("/structlog/", "/logging/"),
    "prometheus_client": ("/prometheus_client/",),
}
FRAME = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*)\)$")


def package(path: str) -> str:
    """A readable owner of a source file: site-packages package, workspace package or stdlib module."""
    path = re.sub(r":\d+$", "", path)
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    match = re.search(r"/(bookshelf_[a-z_]+)/", path)
    if match:
        return match.group(1)
    match = re.search(r"/python3\.\d+/([^/]+)", path)
    return f"stdlib {match.group(1).removesuffix('.py')}" if match else path


def aggregate(raw: str) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Samples, self time by package, inclusive time by layer, self time by function."""
    total = 0
    by_package: Counter[str] = Counter()
    by_layer: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [FRAME.match(f) for f in stack.split(";")]
        paths = [m.group("path") for m in frames if m]
        if not paths:
            continue
        total += count
        leaf = frames[-1]
        by_package[package(paths[-1])] += count
        if leaf:
            by_function[f"{leaf.group('func')} ({package(leaf.group('path'))})"] += count
        for label, fragments in LAYERS.items():
            if any(frag in p for p in paths for frag in fragments):
                by_layer[label] += count
    return total, by_package, by_layer, by_function


def spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [exe, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100", "--nonblocking"]
    command += ["-f", "raw", "--full-filenames", "-F", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def share(counter: Counter[str], total: int, top: int) -> str:
    return ", ".join(f"{name} {count / total:.0%}" for name, count in counter.most_common(top))


async def profile(target: Target, args: argparse.Namespace, workdir: Path) -> None:
    prefix = f"bench-{secrets.token_hex(3)}-"
    also = [p for p in [target.postmaster_pid] if p]
    with (
        ProcessMonitor(target.root_pid, also=also) as monitor,
        Tracker(target.kafka, prefix, target.storefront_dsn) as tracker,
    ):
        async with client() as http:
            bench = Bench(target, tracker, monitor, http, Settings(books=args.books, read_rate=0), prefix)
            await bench.seed()
            services = {
                monitor.group[pid]: pid
                for pid in monitor.procs
                if monitor.group.get(pid) not in ("postgres", "broker", "supervisor", "bench", "other")
            }
            load = asyncio.create_task(open_loop(args.rate, args.seconds + 10, bench.orders.fire))
            await asyncio.sleep(5)
            window = monitor.window()
            spies = {name: spy(pid, args.seconds, workdir / f"{name}.txt") for name, pid in services.items()}
            started = time.monotonic()
            await asyncio.gather(*(asyncio.to_thread(p.wait) for p in spies.values()))
            usage = monitor.close(window)
            elapsed = time.monotonic() - started
            sent = await load
            await bench.wait_done(sent, time.monotonic() + 30)
    print(f"\n{args.rate:g} orders/s offered; {elapsed:.0f} s sampled; CPU seconds in that window:")
    print({g: s for g, s in usage["cpu_s"].items() if s})
    orders = args.rate * elapsed
    print("CPU ms per order:", {g: round(s / orders * 1000, 2) for g, s in usage["cpu_s"].items() if s})
    for name in sorted(services):
        path = workdir / f"{name}.txt"
        if not path.exists():
            error = spies[name].stderr.read().decode() if spies[name].stderr else ""
            print(f"\n## {name}: no profile: {error[-300:]}")
            continue
        total, by_package, by_layer, by_function = aggregate(path.read_text())
        if not total:
            continue
        print(f"\n## {name}: {total} samples")
        print("self time by package:", share(by_package, total, 10))
        print("inclusive by layer:", share(by_layer, total, 10))
        print("top functions (self):", share(by_function, total, 12))


def main() -> int:
    parser = argparse.ArgumentParser(description="py-spy profiles of every service under load")
    parser.add_argument("--rate", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--books", type=int, default=200)
    parser.add_argument("--attach", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the raw profiles in this folder")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally-blocks stop the system
    with tempfile.TemporaryDirectory(prefix="bookshelf-profile-") as tmp:
        target = attach() if args.attach else start_embedded(Path(tmp) / "home")
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            import uvloop

            uvloop.run(profile(target, args, workdir))
        finally:
            target.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
