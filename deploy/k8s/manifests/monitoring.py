"""The monitoring component (``deploy/k8s/components/monitoring``), for clusters with the Prometheus
Operator: the status exporter, PodMonitors, a PrometheusRule and the Grafana dashboard.

The rules and the dashboard are not written twice: the PrometheusRule holds the groups of
``deploy/prometheus/alerts.yml`` (what compose's Prometheus loads) and the ConfigMap the file
``deploy/grafana/bookshelf.json``; ``generate.py --check`` (run by tests/deploy) fails when either copy
is stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy.k8s.manifests.model import PART_OF, secret_env
from deploy.k8s.manifests.pods import (
    ENV_FROM,
    KAFKA_TLS_MOUNT,
    container_security,
    image,
    kafka_tls_volume,
    labels,
    pod_security,
    selector,
)

DEPLOY = Path(__file__).resolve().parents[2]
EXPORTER = "bookshelf-status"
EXPORTER_PORT = 9102
# The job label of every scraped pod is its app.kubernetes.io/name, as the compose jobs are named
# (catalog, ..., bookshelf-status), so the same alert expressions hold in both.
JOB_LABEL = "app.kubernetes.io/name"


def status_exporter() -> dict[str, Any]:
    """``bookshelf status --serve``: lag in seconds and dead-letter depth; one replica is enough."""
    tcp = {"tcpSocket": {"port": "http"}}
    container = {
        "name": "exporter",
        "image": image("cli"),
        "imagePullPolicy": "IfNotPresent",
        "args": ["status", "--serve", str(EXPORTER_PORT), "--bind", "0.0.0.0"],
        "ports": [{"name": "http", "containerPort": EXPORTER_PORT}],
        "envFrom": ENV_FROM,
        "env": [secret_env("KAFKA_SASL_PASSWORD", "bookshelf-kafka", "password", optional=True)],
        # A scrape collects from the broker (up to tens of seconds): probe the socket, not /metrics.
        "readinessProbe": {**tcp, "periodSeconds": 10},
        "livenessProbe": {**tcp, "periodSeconds": 20, "failureThreshold": 3},
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, KAFKA_TLS_MOUNT],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": EXPORTER, "labels": labels(EXPORTER, "exporter")},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector(EXPORTER, "exporter")},
            "template": {
                "metadata": {"labels": labels(EXPORTER, "exporter")},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "terminationGracePeriodSeconds": 10,
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}, kafka_tls_volume()],
                },
            },
        },
    }


def pod_monitors() -> list[dict[str, Any]]:
    """Every Bookshelf pod's ``http`` port at /metrics; the exporter less often, with a longer timeout."""

    def monitor(name: str, match: dict[str, Any], endpoint: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": PART_OF}},
            "spec": {
                "jobLabel": JOB_LABEL,
                "selector": match,
                "podMetricsEndpoints": [{"port": "http", "path": "/metrics", **endpoint}],
            },
        }

    services = {
        "matchLabels": {"app.kubernetes.io/part-of": PART_OF},
        "matchExpressions": [{"key": JOB_LABEL, "operator": "NotIn", "values": [EXPORTER]}],
    }
    exporter = {"matchLabels": {"app.kubernetes.io/part-of": PART_OF, JOB_LABEL: EXPORTER}}
    return [
        monitor("bookshelf-services", services, {"interval": "15s"}),
        monitor(EXPORTER, exporter, {"interval": "30s", "scrapeTimeout": "25s"}),
    ]


def prometheus_rule() -> dict[str, Any]:
    """The alert groups of deploy/prometheus/alerts.yml as a PrometheusRule."""
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "bookshelf", "labels": {"app.kubernetes.io/part-of": PART_OF}},
        "spec": {"groups": rules["groups"]},
    }


def dashboards() -> dict[str, Any]:
    """deploy/grafana/bookshelf.json for Grafana's dashboard sidecar (label ``grafana_dashboard``)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "bookshelf-grafana-dashboards",
            "labels": {"app.kubernetes.io/part-of": PART_OF, "grafana_dashboard": "1"},
        },
        "data": {"bookshelf.json": (DEPLOY / "grafana" / "bookshelf.json").read_text()},
    }


def monitoring_files() -> dict[str, list[dict[str, Any]]]:
    """File name (relative to the component) -> its documents."""
    return {
        "status-exporter.yaml": [status_exporter()],
        "pod-monitors.yaml": pod_monitors(),
        "prometheus-rule.yaml": [prometheus_rule()],
        "dashboards.yaml": [dashboards()],
    }
