"""`make bench`: run every benchmark script under bench/ (each prints its own table of medians).

Each script starts the infrastructure it needs (embedded broker and PostgreSQL on free ports) unless
pointed at a running system, runs 3 times, prints medians with min/max, and writes bench/results/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ["messaging_bench.py", "storefront_bench.py"]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        script = HERE / name
        if not script.exists():
            continue
        print(f"== {name}", flush=True)
        if subprocess.call([sys.executable, str(script), *sys.argv[1:]]) != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
