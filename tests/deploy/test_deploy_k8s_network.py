"""NetworkPolicies: ingress is denied by default; only the public APIs take connections from anywhere;
each database and Kafka take them only from their own clients."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from tests.deploy.deploy_support import K8S
from tests.deploy.kustomize_support import kustomize_build

pytestmark = pytest.mark.unit

PUBLIC = {"catalog", "ordering", "inventory", "shipping", "storefront-query"}


@cache
def policies(name: str) -> dict[str, dict[str, Any]]:
    path = K8S / "base" if name == "base" else K8S / "overlays" / name
    return {d["metadata"]["name"]: d for d in kustomize_build(path) if d["kind"] == "NetworkPolicy"}


def pod_labels(name: str) -> list[dict[str, str]]:
    path = K8S / "base" if name == "base" else K8S / "overlays" / name
    return [
        d["spec"]["template"]["metadata"]["labels"]
        for d in kustomize_build(path)
        if d["kind"] in ("Deployment", "StatefulSet", "Job")
    ]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels, In, NotIn)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
    return True


def open_to_anyone(name: str, labels: dict[str, str]) -> bool:
    """True when a policy lets any source reach these pods (an ingress rule without ``from``)."""
    return any(
        selects(p["spec"]["podSelector"], labels)
        and any("from" not in rule for rule in p["spec"].get("ingress", []))
        for p in policies(name).values()
    )


@pytest.mark.parametrize("name", ["base", "dev"])
def test_ingress_is_denied_by_default_and_only_public_apis_are_open(name: str) -> None:
    deny = policies(name)["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    opened = {
        (labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"])
        for labels in pod_labels(name)
        if open_to_anyone(name, labels)
    }
    assert opened == {(service, "api") for service in PUBLIC}


def test_the_dev_database_and_broker_take_only_bookshelf_clients() -> None:
    postgres = policies("dev")["postgres-clients"]["spec"]
    (rule,) = postgres["ingress"]
    sources = [peer["podSelector"] for peer in rule["from"]]
    allowed = {
        labels["app.kubernetes.io/name"]
        for labels in pod_labels("dev")
        if any(selects(s, labels) for s in sources)
    }
    assert allowed == {
        "catalog",
        "ordering",
        "inventory",
        "shipping",
        "storefront-query",
        "fulfillment",  # the saga's state is in its own database
        "observatory",
        "postgres",
    }
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    kafka = policies("dev")["kafka-clients"]["spec"]
    (rule,) = kafka["ingress"]
    assert not selects(
        rule["from"][0]["podSelector"],
        {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "bookshelf"},
    )
    assert selects(
        rule["from"][0]["podSelector"],
        {"app.kubernetes.io/name": "fulfillment", "app.kubernetes.io/part-of": "bookshelf"},
    )


def test_each_cloudnative_pg_cluster_takes_its_own_service_and_the_reader_only() -> None:
    clusters = yaml.safe_load_all((K8S / "platform" / "cloudnative-pg" / "clusters.yaml").read_text())
    for cluster in clusters:
        name = cluster["metadata"]["name"]
        policy = policies("base")[f"{name}-clients"]["spec"]
        assert policy["podSelector"] == {"matchLabels": {"cnpg.io/cluster": name}}
        clients = policy["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"]
        database = name.removesuffix("-db")
        assert set(clients) - {"observatory"} <= {database, f"{database}-query"}
        assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_strimzi_brokers_take_only_bookshelf_pods() -> None:
    kafka = next(
        d
        for d in yaml.safe_load_all((K8S / "platform" / "strimzi" / "kafka.yaml").read_text())
        if d["kind"] == "Kafka"
    )
    for listener in kafka["spec"]["kafka"]["listeners"]:
        (peer,) = listener["networkPolicyPeers"]
        assert peer["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "bookshelf"}}
