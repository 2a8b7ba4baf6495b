"""Messaging throughput: outbox relay (commit -> broker ack) and consumer runner (inbox + upsert).

    uv run python bench/messaging_bench.py [--events 50000] [--runs 3]

Starts a local Apache Kafka and PostgreSQL (durable defaults) on free ports, then per run:
(a) relay: commits N outbox rows in one transaction while an active relay waits, and measures from
    the commit to the broker's last delivery report (and to the last "published" mark);
(b) consumer: with a runner joined to a 6-partition topic, produces N envelopes and measures from
    the first produce to the last handled message (inbox row + one upsert per event, committed).
Prints medians with min/max and the peak RSS of each process; writes bench/results/messaging-*.json.
"""

from __future__ import annotations

from msgbench.cli import main  # bench/ is on sys.path when this file runs as a script

if __name__ == "__main__":
    raise SystemExit(main())
