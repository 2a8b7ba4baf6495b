"""The whole-system benchmark behind `bench/system_bench.py` (see that script and docs/benchmarks.md).

Modules: ``target`` (start or attach to a system), ``procs`` (CPU and memory per process),
``watcher`` (fulfilment seen on the topics and in the storefront database), ``loadgen`` (open-loop
HTTP load), ``analysis`` (latencies, step verdicts, medians), ``scenarios``, ``report``, ``cli``.
"""
