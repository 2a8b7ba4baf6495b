"""The saga worker (fulfillment): a StatefulSet with a headless Service (stable worker identities), its
database migrated by a Job and, as a no-op safety net, by an init container, like every service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.k8s.manifests.model import Service, db_secret, secret_env
from deploy.k8s.manifests.pods import (
    ENV_FROM,
    container_security,
    image,
    labels,
    metadata,
    migrate_container,
    pod_security,
    probes,
    scrape_annotations,
    selector,
    volume_mounts,
    volumes,
)
from deploy.k8s.manifests.workloads import http_service, migration_job, pdb


def fulfillment_documents(worker: Mapping[str, Any], service: Service) -> list[dict[str, Any]]:
    """The saga worker: its migration Job and a StatefulSet (stable worker identities)."""
    name, port = worker["name"], worker["port"]
    component = "saga"
    headless = f"{name}-workers"
    env = [
        {"name": "FULFILLMENT_HOST", "value": "0.0.0.0"},
        {"name": "FULFILLMENT_PORT", "value": str(port)},
        secret_env(f"{service.prefix}_DATABASE_URL", db_secret(service), "uri"),
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        # The worker's canonical URL (faust's web_host); any worker answers for every order.
        {"name": "FULFILLMENT_ADVERTISED_HOST", "value": f"$(POD_NAME).{headless}.$(POD_NAMESPACE).svc"},
        secret_env("KAFKA_SASL_PASSWORD", "bookshelf-kafka", "password", optional=True),
        # GET /fulfillments is STAFF (the worker refuses to start outside dev without the token).
        secret_env("BOOKSHELF_ADMIN_TOKEN", "bookshelf-app", "admin-token"),
    ]
    container = {
        "name": name,
        "image": image(name),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "envFrom": ENV_FROM,
        "env": env,
        **probes(),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "768Mi"}},
        "securityContext": container_security(),
        "volumeMounts": volume_mounts(),
    }
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(name, component, name),
        "spec": {
            "serviceName": headless,
            "replicas": worker["replicas"],
            # Workers are peers (a consumer group): start and stop them together, not one by one.
            "podManagementPolicy": "Parallel",
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(name, component)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": labels(name, component), "annotations": scrape_annotations(port)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    # On SIGTERM the worker finishes its batch, commits offsets, lets the relay finish.
                    "terminationGracePeriodSeconds": 60,
                    "securityContext": pod_security(),
                    "initContainers": [migrate_container(service)],
                    "containers": [container],
                    # The state is in PostgreSQL: scratch space is all the worker needs.
                    "volumes": volumes(),
                },
            },
        },
    }
    workers = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": headless, "labels": labels(name, component)},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector(name, component),
            "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    return [
        migration_job(service),
        statefulset,
        workers,
        http_service(name, component, port),
        pdb(name, component, name),
    ]
