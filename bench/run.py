"""`make bench`: every benchmark under bench/, one after the other (each prints its own table).

    broker_bench.py      the local Apache Kafka: start time, idle CPU and memory, end-to-end latency
    messaging_bench.py   outbox relay and consumer runner throughput (issue: foundation)
    storefront_bench.py  GET /storefront latency at 100,000 books, projection throughput
    system_bench.py      the whole system: orders over HTTP until fulfilled (updates docs/benchmarks.md)

Each script starts the infrastructure it needs (local Apache Kafka and PostgreSQL on free ports), runs
3 times, prints medians with min/max and writes bench/results/. ``make bench ONLY=system_bench.py``
runs one of them; options of one script: ``uv run python bench/<script> --help``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
# Sized so the whole of `make bench` stays under 10 minutes on 2 cores.
SCRIPTS = {
    "broker_bench.py": [],
    "messaging_bench.py": ["--events", "30000"],
    "storefront_bench.py": [],
    # burst and bulk import are left out of `make bench` to fit 10 minutes at today's throughput:
    # `uv run python bench/system_bench.py --scenarios burst,import` runs them.
    "system_bench.py": ["--scenarios", "flash"],
}


def main() -> int:
    only = [name for name in os.environ.get("ONLY", "").split(",") if name]
    unknown = set(only) - set(SCRIPTS)
    if unknown:
        print(f"ONLY names no benchmark: {', '.join(sorted(unknown))}; choose from {', '.join(SCRIPTS)}")
        return 2
    failed = []
    for name, args in SCRIPTS.items():
        if only and name not in only:
            continue
        print(f"== {name} {' '.join(args)}", flush=True)
        started = time.monotonic()
        if subprocess.call([sys.executable, str(HERE / name), *args]) != 0:
            failed.append(name)
        print(f"== {name} took {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
