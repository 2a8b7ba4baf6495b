"""End-to-end benchmark of the whole system: orders over HTTP until fulfilled.

    uv run python bench/system_bench.py [--runs 3] [--books 200] [--attach] [--scenarios burst,flash,import]

Starts `bookshelf run` (local Apache Kafka and PostgreSQL, every service) on free ports unless
``--attach`` points it at a running system, seeds books, then per run: finds the highest sustained
order rate (open-loop steps), measures latency at 25/50/80 % of it and at the target rate (100/s) with
GET /storefront reads alongside; then a burst, a flash sale and a bulk import while orders flow.
Prints the tables, writes bench/results/system-<timestamp>.json and the generated block of
docs/benchmarks.md "System". How fulfilment is detected and every definition: bench/sysbench/.
"""

from __future__ import annotations

from sysbench.cli import main  # bench/ is on sys.path when this file runs as a script

if __name__ == "__main__":
    raise SystemExit(main())
