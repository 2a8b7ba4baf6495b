"""The messaging benchmark behind `bench/messaging_bench.py` (see that script and docs/benchmarks.md).

Modules: ``probes`` (peak RSS and CPU per process tree, polling, fresh databases), ``relay`` (outbox
relay: commit -> broker ack), ``consumer`` (consumer runner: inbox + upsert), ``scaleout`` (N member
processes in one group), ``cli`` (options, runs, the result document).
"""
