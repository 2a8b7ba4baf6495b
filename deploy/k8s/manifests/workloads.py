"""The objects of one service with a database: a Deployment per role, its Service, PodDisruptionBudget
and HorizontalPodAutoscaler, and the migration Job of a release."""

from __future__ import annotations

from typing import Any

from deploy.k8s.manifests.model import ROLES, Service
from deploy.k8s.manifests.pods import (
    ENV_FROM,
    common_env,
    container_security,
    hook_job,
    image,
    labels,
    metadata,
    migrate_container,
    pod_security,
    probes,
    resources,
    scrape_annotations,
    selector,
    volume_mounts,
    volumes,
)


def deployment(service: Service, role: str) -> dict[str, Any]:
    """One Deployment per role: ``python -m <module> --role <role>``."""
    spec = ROLES[role]
    container: dict[str, Any] = {
        "name": service.name,
        "image": image(service.name),
        "imagePullPolicy": "IfNotPresent",
        "args": ["--role", role],
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "envFrom": ENV_FROM,
        "env": common_env(service) + list(service.env),
        **probes(),
        # Leave time for the Service endpoints and load balancers to drop this pod before SIGTERM.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "resources": resources(spec),
        "securityContext": container_security(),
        "volumeMounts": volume_mounts(),
    }
    pod_spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        # Service links would inject CATALOG_PORT=tcp://10.0.0.1:8001 and the like into every pod of
        # the namespace: the same names the settings read (and KAFKA_* for a Service called kafka).
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": spec.grace_s,
        "securityContext": pod_security(),
        "initContainers": [migrate_container(service)],
        "containers": [container],
        "volumes": volumes(),
    }
    if spec.replicas > 1:
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector(service.name, role)},
            }
        ]
    # With an HPA the count is the HPA's: a replicas field would reset it on every apply or sync.
    replicas = {} if spec.hpa_max is not None else {"replicas": spec.replicas}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(service.name, role),
        "spec": {
            **replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(service.name, role)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {
                    "labels": labels(service.name, role),
                    "annotations": scrape_annotations(service.port),
                },
                "spec": pod_spec,
            },
        },
    }


def http_service(name: str, component: str, port: int) -> dict[str, Any]:
    """The ClusterIP Service in front of the HTTP pods (``<name>:<port>`` inside the namespace)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels(name, component)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name, component),
            "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def pdb(name: str, component: str, resource_name: str | None = None) -> dict[str, Any]:
    """At most one pod of the workload down for voluntary disruptions (drains, upgrades)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, component, resource_name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(name, component)}},
    }


def hpa(service: Service, role: str) -> dict[str, Any]:
    """CPU-based autoscaling of a consumers Deployment, capped at the partition count."""
    spec = ROLES[role]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(service.name, role),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"{service.name}-{role}",
            },
            "minReplicas": spec.replicas,
            "maxReplicas": spec.hpa_max,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
            # Every membership change is a consumer-group rebalance: scale down slowly, one pod at a time.
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}],
                },
                "scaleUp": {
                    "stabilizationWindowSeconds": 60,
                    "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
                },
            },
        },
    }


def migration_job(service: Service) -> dict[str, Any]:
    """The explicit migration run of a release (init containers repeat it as a no-op safety net)."""
    return hook_job(
        f"{service.name}-migrate",
        labels(service.name, "migration"),
        [{**migrate_container(service), "name": "migrate"}],
        [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
        backoff_limit=4,
        deadline_s=900,
    )


def service_documents(service: Service) -> list[dict[str, Any]]:
    """Every object of one service, in a stable order."""
    docs: list[dict[str, Any]] = [migration_job(service)]
    for role in service.roles:
        docs.append(deployment(service, role))
        if role in ("api", "all"):
            docs.append(http_service(service.name, role, service.port))
        if ROLES[role].replicas > 1:
            docs.append(pdb(service.name, role))
        if ROLES[role].hpa_max is not None:
            docs.append(hpa(service, role))
    return docs
