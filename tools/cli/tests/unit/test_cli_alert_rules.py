"""The Prometheus rules, scrape config and Grafana dashboard only use metrics the code exports, and every
alert has its runbook (deploy/prometheus/, deploy/grafana/, docs/runbooks/)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from bookshelf_cli.services import SERVICES

ROOT = Path(__file__).resolve().parents[4]
DECLARED = re.compile(
    r"\b(?:Counter|Gauge|Histogram|Summary|GaugeMetricFamily|CounterMetricFamily)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\""
)
USED = re.compile(r"\b((?:bookshelf|catalog)_[a-z0-9_]+)\b")
SUFFIXES = ("", "_total", "_bucket", "_sum", "_count", "_created")
# Runbook links are absolute (a notification is read outside the repository): the repository's docs.
RUNBOOK_BASE = "https://bookshelf.invalid/docs/runbooks"


@cache
def exported() -> frozenset[str]:
    """Every series name the source code can export (counters, histograms and their suffixes)."""
    names: set[str] = set()
    for path in ROOT.glob("*/*/src/**/*.py"):
        for name in DECLARED.findall(path.read_text(errors="replace")):
            base = name.removesuffix("_total")
            names.update(f"{base}{suffix}" for suffix in SUFFIXES)
    return frozenset(names)


def alerts() -> list[dict[str, Any]]:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_the_scan_finds_the_messaging_metrics() -> None:
    assert {
        "bookshelf_consumer_lag",
        "bookshelf_dlq_written_total",
        "bookshelf_consumer_lag_seconds",
    } <= exported()


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_each_alert_has_a_runbook_and_uses_exported_metrics(rule: dict[str, Any]) -> None:
    name = rule["alert"]
    assert re.fullmatch(r"Bookshelf[A-Za-z]+", name)
    runbook = ROOT / "docs/runbooks" / f"{name}.md"
    assert runbook.is_file(), f"{name} has no runbook at {runbook.relative_to(ROOT)}"
    assert runbook.read_text().startswith(f"# {name}\n")
    assert rule["annotations"]["runbook_url"] == f"{RUNBOOK_BASE}/{name}.md"
    assert rule["annotations"]["summary"]
    assert rule["labels"]["severity"] in ("info", "warning", "critical")
    used = set(USED.findall(rule["expr"]))
    assert used, f"{name} uses no Bookshelf metric"
    assert used <= exported(), f"{name} uses metrics nothing exports: {sorted(used - exported())}"
    assert rule["expr"].count("(") == rule["expr"].count(")")


def test_every_runbook_belongs_to_an_alert() -> None:
    names = {rule["alert"] for rule in alerts()}
    assert {p.stem for p in (ROOT / "docs/runbooks").glob("*.md")} == names


def test_prometheus_scrapes_every_service_and_loads_the_rules() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    for spec in SERVICES:
        assert f"{spec.name}:{spec.port}" in targets
    assert "bookshelf-status:9102" in targets  # the exporter compose runs (tests/deploy checks it)


def test_an_alert_fires_when_the_status_exporter_is_down() -> None:
    [rule] = [r for r in alerts() if r["alert"] == "BookshelfStatusExporterDown"]
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    [job] = [
        j for j in config["scrape_configs"] if "bookshelf-status:9102" in j["static_configs"][0]["targets"]
    ]
    assert f'up{{job="{job["job_name"]}"}} == 0' in rule["expr"]
    assert f'absent(up{{job="{job["job_name"]}"}})' in rule["expr"]
    assert "bookshelf_status_up) == 0" in rule["expr"]


def test_dashboard_panels_use_exported_metrics() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/bookshelf.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            used = set(USED.findall(target["expr"]))
            assert used <= exported(), f"{panel['title']}: {sorted(used - exported())}"
