"""The system benchmark's harness still works: a few orders at a low rate against the session's system.

No timing is asserted (machines are noisy): only that the harness sees every order fulfilled, settles
a tiny flash sale without overselling, and produces a complete result document and its tables.
"""

from __future__ import annotations

import pytest

from bench.sysbench import report
from bench.sysbench.cli import finish, measure, parse, settings_of
from bench.sysbench.target import Target
from tests.e2e.system import RunningSystem

pytestmark = pytest.mark.e2e

ARGV = [
    "--runs=1",
    "--books=3",
    "--ramp=3",
    "--step-s=2",
    "--grace-s=30",
    "--steady-rate=2",
    "--read-rate=2",
    "--scenarios=burst,flash",
    "--burst-orders=5",
    "--flash-orders=12",
    "--flash-copies=4",
    "--no-calibrate",
    "--no-docs",
]


def target_of(system: RunningSystem) -> Target:
    env = system.cli_env()
    return Target(
        urls={spec.name: system.url(spec.name) for spec in system.services},
        kafka=system.kafka_bootstrap,
        storefront_dsn=f"postgresql://postgres@127.0.0.1:{env['BOOKSHELF_PG_PORT']}/storefront",
        root_pid=system.process.pid,
        env=env,
    )


async def test_bench_harness_measures_fulfilled_orders(running_system: RunningSystem) -> None:
    args = parse(ARGV)
    settings = settings_of(args)
    settings.slo_p99_s = 60.0  # a verdict, not an assertion: keep the smoke run on its short path
    doc = await measure(target_of(running_system), args, settings)
    finish(doc, args, ARGV, [0.0, 0.0, 0.0])

    (run,) = doc["runs_detail"]
    steps = [*run["ramp"], *run["levels"].values(), run["steady"]]
    for step in steps:
        assert step["sent"] > 0
        assert step["accepted"] == step["sent"], step["errors"]
        assert step["fulfilled"] == step["accepted"], step
        assert step["latency_ms"]["p99"] is not None
        assert step["processes"]["cpu_s"]["system"] > 0  # the process tree of `bookshelf run` was read
    burst = doc["scenarios"]["burst"]
    assert burst["fulfilled"] == burst["sent"] == 5
    flash = doc["scenarios"]["flash_sale"]
    assert flash["unsettled"] == 0
    assert flash["confirmed"] == 4
    assert flash["cancelled"] == 8
    assert not flash["oversold"]
    assert doc["memory"]["idle_pss_mb"] > 0
    assert set(doc["targets"]) == set(report.TARGETS)
    table = report.markdown(doc)
    assert "| steady (target rate) |" in table
    assert "flash sale: 12 orders, last 4 copies" in table
