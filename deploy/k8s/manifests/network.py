"""NetworkPolicies: who may open a connection to whom (docs/security.md "Network").

- The application namespace denies all ingress by default.
- Only the public APIs (the ``api`` pods of catalog, ordering, inventory, shipping, storefront-query)
  take connections from anywhere (the ingress controller, other namespaces), on their HTTP port.
- Every Bookshelf pod's HTTP port (``/readyz``, ``/metrics``, fulfillment's ``/fulfillments``) takes
  connections from the observatory (probes), the saga workers (faust forwards a read to the worker
  that owns the order) and Prometheus (namespace ``monitoring``). The observatory itself takes none
  from outside: staff reach it with ``kubectl port-forward`` or an authenticated ingress of their own.
- Each database takes connections only from its own service (all roles and the migration Job) and
  from the observatory's read-only role (outbox backlog); Kafka only from Bookshelf's pods (the dev
  overlay's broker here; Strimzi's listener through its ``networkPolicyPeers``, platform/strimzi).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deploy.k8s.manifests.model import PART_OF

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
PART = "app.kubernetes.io/part-of"
PUBLIC_APIS = ("catalog", "ordering", "inventory", "shipping", "storefront-query")
MONITORING_NAMESPACE = "monitoring"
CNPG_OPERATOR_NAMESPACE = "cnpg-system"


def policy(name: str, pods: Mapping[str, Any], ingress: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An ingress NetworkPolicy for the pods ``pods`` selects."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": {PART: PART_OF}},
        "spec": {
            "podSelector": dict(pods),
            "policyTypes": ["Ingress"],
            "ingress": [dict(i) for i in ingress],
        },
    }


def pods_named(*names: str) -> dict[str, Any]:
    """A peer or pod selector: the pods of these Bookshelf workloads (every role and Job)."""
    return {"matchExpressions": [{"key": NAME, "operator": "In", "values": list(names)}]}


def tcp(*ports: int | str) -> list[dict[str, Any]]:
    """TCP ports, by number or by container port name."""
    return [{"protocol": "TCP", "port": port} for port in ports]


def application_policies() -> list[dict[str, Any]]:
    """The base's policies for the services (namespace of the kustomization)."""
    deny_all = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-ingress", "labels": {PART: PART_OF}},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    public = policy(
        "public-apis",
        {
            "matchLabels": {COMPONENT: "api"},
            "matchExpressions": [{"key": NAME, "operator": "In", "values": list(PUBLIC_APIS)}],
        },
        [{"ports": tcp("http")}],  # no "from": any source
    )
    operations = policy(
        "operations-http",
        {"matchLabels": {PART: PART_OF}},
        [
            {
                "from": [
                    {"podSelector": pods_named("observatory", "fulfillment")},
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}
                        }
                    },
                ],
                "ports": tcp("http"),
            }
        ],
    )
    return [deny_all, public, operations]


def dev_infrastructure_policies(database_clients: Iterable[str]) -> list[dict[str, Any]]:
    """The dev overlay's single PostgreSQL and Kafka, beside the services in their namespace."""
    postgres = policy(
        "postgres-clients",
        {"matchLabels": {NAME: "postgres"}},
        [
            {
                "from": [
                    {"podSelector": pods_named(*database_clients)},
                    # postgres-init creates the databases and roles.
                    {"podSelector": {"matchLabels": {NAME: "postgres", COMPONENT: "init"}}},
                ],
                "ports": tcp(5432),
            }
        ],
    )
    kafka = policy(
        "kafka-clients",
        {"matchLabels": {NAME: "kafka"}},
        [
            {
                "from": [
                    {
                        "podSelector": {
                            "matchLabels": {PART: PART_OF},
                            "matchExpressions": [{"key": NAME, "operator": "NotIn", "values": ["postgres"]}],
                        }
                    }
                ],
                "ports": tcp(9092),
            }
        ],
    )
    return [postgres, kafka]


def cloudnative_pg_policies(databases: Mapping[str, str]) -> list[dict[str, Any]]:
    """One policy per CloudNativePG Cluster ``<database>-db``: its service, the observatory's reader,
    its own instances (replication) and the operator."""
    documents = []
    for service, database in databases.items():
        cluster = f"{database}-db"
        document = policy(
            f"{cluster}-clients",
            {"matchLabels": {"cnpg.io/cluster": cluster}},
            [
                {"from": [{"podSelector": pods_named(service, "observatory")}], "ports": tcp(5432)},
                {"from": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": cluster}}}]},
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": CNPG_OPERATOR_NAMESPACE}
                            }
                        }
                    ],
                    "ports": tcp(8000, 5432),
                },
            ],
        )
        documents.append(document)
    return documents
