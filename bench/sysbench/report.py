"""The result document (bench/results/system-<timestamp>.json) and its tables (stdout and the generated
block of docs/benchmarks.md "System")."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import psutil

from .analysis import spread

BEGIN, END = "<!-- system-bench:begin -->", "<!-- system-bench:end -->"
TARGETS = {
    "sustained fulfilled orders/s": ">= 300",
    "p99 POST->fulfilled at 100/s": "<= 150 ms",
    "POST /orders p99 at 100/s": "<= 25 ms",
    "order p99 with / without import": "<= 1.5x",
    "idle memory (`make run`)": "< 1.5 GB",
    "peak memory under load": "< 2.5 GB",
}


def machine() -> dict[str, Any]:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def _step_spread(steps: list[dict[str, Any]]) -> dict[str, Any]:
    def col(*path: str) -> dict[str, float | None]:
        values = []
        for step in steps:
            value: Any = step
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            values.append(value)
        return spread(values)

    return {
        "rate": col("rate"),
        "fulfilled_per_s": col("fulfilled_per_s"),
        "p50_ms": col("latency_ms", "p50"),
        "p95_ms": col("latency_ms", "p95"),
        "p99_ms": col("latency_ms", "p99"),
        "post_p50_ms": col("post_orders_ms", "p50"),
        "post_p99_ms": col("post_orders_ms", "p99"),
        "get_p50_ms": col("get_storefront_ms", "p50"),
        "get_p99_ms": col("get_storefront_ms", "p99"),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians with min/max over the runs."""
    steady = [r["steady"] for r in runs]
    groups = sorted({g for s in steady for g in s["processes"]["cpu_s"]})
    return {
        "max_rate": spread(r["max_rate"] for r in runs),
        "fulfilled_per_s_at_max": spread(r["fulfilled_per_s_at_max"] for r in runs),
        "saturation_fulfilled_per_s": spread(r["saturation_fulfilled_per_s"] for r in runs),
        "levels": {
            level: _step_spread([r["levels"][level] for r in runs if level in r["levels"]])
            for level in (runs[0]["levels"] if runs else {})
        },
        "steady": _step_spread(steady),
        "steady_cpu_s": {g: spread(s["processes"]["cpu_s"].get(g) for s in steady) for g in groups},
        "steady_cpu_ms_per_order": {g: spread(s["cpu_ms_per_order"].get(g) for s in steady) for g in groups},
        "peak_rss_mb": {g: spread(r["peak_rss_mb"].get(g) for r in runs) for g in groups},
        "peak_pss_mb": {g: spread(r["peak_pss_mb"].get(g) for r in runs) for g in groups},
    }


def _s(cell: dict[str, float | None]) -> str:
    if cell["median"] is None:
        return "-"
    if cell["min"] == cell["max"]:
        return f"{cell['median']:g}"
    return f"{cell['median']:g} ({cell['min']:g}-{cell['max']:g})"


def markdown(doc: dict[str, Any]) -> str:
    """The tables of one result document."""
    s, m = doc["summary"], doc["machine"]
    out = [
        f"Measured {doc['at']} with `{doc['command']}`: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
        f"Python {m['python']}, {m['os']}; load average before/after {doc['load_before']} / {doc['load_after']}. "
        f"Medians of {doc['runs']} runs (min-max); {doc['settings']['books']} books; step "
        f"{doc['settings']['step_s']:g} s; a step is sustained when every order is fulfilled, errors <= 0.5 %, "
        f"p99 <= {doc['settings']['slo_p99_s'] * 1000:g} ms and completions keep pace.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| highest sustained rate (orders/s offered) | {_s(s['max_rate'])} |",
        f"| fulfilled orders/s at that rate | {_s(s['fulfilled_per_s_at_max'])} |",
        f"| fulfilled orders/s when overloaded (saturation) | {_s(s['saturation_fulfilled_per_s'])} |",
        "",
        "| load | orders/s | fulfilled/s | POST->fulfilled p50 / p95 / p99 ms | POST /orders p50 / p99 ms "
        "| GET /storefront p50 / p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    rows = [*((f"{k} of max", v) for k, v in s["levels"].items()), ("steady (target rate)", s["steady"])]
    for name, row in rows:
        out.append(
            f"| {name} | {_s(row['rate'])} | {_s(row['fulfilled_per_s'])} | {_s(row['p50_ms'])} / "
            f"{_s(row['p95_ms'])} / {_s(row['p99_ms'])} | {_s(row['post_p50_ms'])} / {_s(row['post_p99_ms'])} "
            f"| {_s(row['get_p50_ms'])} / {_s(row['get_p99_ms'])} |"
        )
    out += [
        "",
        "| process | CPU s in the steady step | CPU ms per order | peak RSS MiB | peak PSS MiB |",
        "|---|---|---|---|---|",
    ]
    for g in s["steady_cpu_s"]:
        out.append(
            f"| {g} | {_s(s['steady_cpu_s'][g])} | {_s(s['steady_cpu_ms_per_order'][g])} "
            f"| {_s(s['peak_rss_mb'].get(g, spread([])))} | {_s(s['peak_pss_mb'].get(g, spread([])))} |"
        )
    out += ["", *scenario_lines(doc), "", "| target | wanted | measured |", "|---|---|---|"]
    out += [f"| {name} | {TARGETS[name]} | {value} |" for name, value in doc["targets"].items()]
    return "\n".join(out)


def scenario_lines(doc: dict[str, Any]) -> list[str]:
    sc = doc.get("scenarios", {})
    lines = ["| scenario | result |", "|---|---|"]
    if "burst" in sc:
        b = sc["burst"]
        lines.append(
            f"| burst: {b['sent']} orders in {b['seconds']:g} s | all fulfilled after {b['all_fulfilled_after_s']} s; "
            f"POST->fulfilled p50 {b['latency_ms']['p50']} / p99 {b['latency_ms']['p99']} ms; "
            f"POST p99 {b['post_orders_ms']['p99']} ms; unfulfilled {b['unfulfilled']} |"
        )
    if "flash_sale" in sc:
        f = sc["flash_sale"]
        lines.append(
            f"| flash sale: {f['orders']} orders, last {f['copies']} copies | confirmed {f['confirmed']}, "
            f"cancelled {f['cancelled']}, unsettled {f['unsettled']}, oversold: {'YES' if f['oversold'] else 'no'}; "
            f"settle p50 {f['settle_ms']['p50']} / p99 {f['settle_ms']['p99']} ms |"
        )
    if "bulk_import" in sc:
        i = sc["bulk_import"]
        lines.append(
            f"| {i['rows']}-book import while {i['rate']:g} orders/s | order p99 {i['with']['latency_ms']['p99']} ms "
            f"vs {i['without']['latency_ms']['p99']} ms without (x{i['p99_ratio']}); import POST "
            f"{i['with']['import']} |"
        )
    mem = doc.get("memory", {})
    if mem:
        lines.append(
            f"| memory | idle: RSS sum {mem['idle_rss_mb']:.0f} MiB, PSS {mem['idle_pss_mb']:.0f} MiB; "
            f"peak under load: RSS sum {mem['peak_rss_mb']:.0f} MiB, PSS {mem['peak_pss_mb']:.0f} MiB |"
        )
    return lines


def update_docs(path: Path, block: str) -> None:
    """Replace the generated block of the "System" section (creating section or file if missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    generated = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + generated + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## System\n\nLatest `make bench` figures:\n\n{generated}\n"
    path.write_text(text)
