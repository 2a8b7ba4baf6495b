"""What every Bookshelf pod shares: labels, security contexts, probes, resources, configuration,
volumes, the migration init container and the Prometheus annotations."""

from __future__ import annotations

from typing import Any

from deploy.k8s.manifests.model import (
    DATA_DIR,
    IMAGE_REGISTRY,
    JOB_WAVE,
    PART_OF,
    UID,
    RoleSpec,
    Service,
    db_secret,
    secret_env,
)


def labels(name: str, component: str) -> dict[str, str]:
    """The recommended labels; ``name`` + ``component`` select the pods of one workload."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
    }


def selector(name: str, component: str) -> dict[str, str]:
    """The immutable selector of a workload."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def metadata(name: str, component: str, resource_name: str | None = None) -> dict[str, Any]:
    """``metadata`` with the recommended labels."""
    return {"name": resource_name or f"{name}-{component}", "labels": labels(name, component)}


def image(name: str) -> str:
    """The image of a service; overlays set registry and tag with kustomize ``images``."""
    return f"{IMAGE_REGISTRY}/bookshelf/{name}"


def pod_security() -> dict[str, Any]:
    """Non-root, read-only root filesystem (see the Dockerfiles: uid 10001, venv owned by root)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    """No privilege escalation, no capabilities, nothing writable but the mounted emptyDirs."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def http_probe(path: str, period: int, failures: int, timeout: int = 3) -> dict[str, Any]:
    """An HTTP GET probe on the named port ``http``."""
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def probes() -> dict[str, Any]:
    """Startup (topics + connections before HTTP), liveness (/healthz), readiness (/readyz)."""
    return {
        # Until /healthz answers once (up to 2 minutes: topic creation and first connections).
        "startupProbe": http_probe("/healthz", period=5, failures=24),
        "livenessProbe": http_probe("/healthz", period=10, failures=3),
        # /readyz checks the database, Kafka and this role's runners (each check <= 2 s).
        "readinessProbe": http_probe("/readyz", period=10, failures=3, timeout=5),
    }


def resources(spec: RoleSpec) -> dict[str, Any]:
    """CPU and memory requests; a memory limit; no CPU limit (throttling hurts consumer latency)."""
    return {
        "requests": {"cpu": spec.cpu, "memory": spec.memory},
        "limits": {"memory": spec.memory_limit},
    }


def common_env(service: Service) -> list[dict[str, Any]]:
    """Address, database and staff token of a service container."""
    return [
        {"name": f"{service.prefix}_HOST", "value": "0.0.0.0"},
        {"name": f"{service.prefix}_PORT", "value": str(service.port)},
        secret_env(f"{service.prefix}_DATABASE_URL", db_secret(service), "uri"),
        secret_env("BOOKSHELF_ADMIN_TOKEN", "bookshelf-app", "admin-token"),
        secret_env("KAFKA_SASL_PASSWORD", "bookshelf-kafka", "password", optional=True),
    ]


ENV_FROM = [{"configMapRef": {"name": "bookshelf-config"}}]
KAFKA_TLS_MOUNT = {"name": "kafka-tls", "mountPath": "/etc/bookshelf/kafka", "readOnly": True}


def kafka_tls_volume() -> dict[str, Any]:
    """``/etc/bookshelf/kafka``: the cluster CA (required) and, for mTLS, the client certificate.

    Names follow Strimzi: a Kafka cluster ``bookshelf`` publishes its CA as ``bookshelf-cluster-ca-cert``
    and a KafkaUser ``bookshelf-kafka`` gets a Secret of that name (``password`` for SCRAM, ``user.crt`` /
    ``user.key`` for TLS authentication; optional, SCRAM users have no certificate). The CA is required
    because ``KAFKA_SSL_CAFILE`` points at it: a missing copy keeps the pod in ContainerCreating with
    "secret not found" instead of crashing it later on a TLS error. Brokers with publicly trusted
    certificates (and the dev overlay's PLAINTEXT broker) mark it optional.
    """
    return {
        "name": "kafka-tls",
        "projected": {
            "sources": [
                {
                    "secret": {
                        "name": "bookshelf-cluster-ca-cert",
                        "optional": False,
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "secret": {
                        "name": "bookshelf-kafka",
                        "optional": True,
                        "items": [
                            {"key": "user.crt", "path": "user.crt"},
                            {"key": "user.key", "path": "user.key"},
                        ],
                    }
                },
            ]
        },
    }


def volumes() -> list[dict[str, Any]]:
    """A scratch /tmp, the service's data directory, and the Kafka TLS files."""
    return [
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": "data", "emptyDir": {"sizeLimit": "256Mi"}},
        kafka_tls_volume(),
    ]


def volume_mounts() -> list[dict[str, Any]]:
    """Where ``volumes()`` are mounted."""
    return [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "data", "mountPath": DATA_DIR},
        KAFKA_TLS_MOUNT,
    ]


def migrate_command(service: Service) -> list[str]:
    """Alembic ``upgrade head`` through the service's own package (advisory-locked, idempotent)."""
    code = (
        f"import os; from {service.module}.migrations import upgrade; "
        f"upgrade(os.environ['{service.prefix}_DATABASE_URL'])"
    )
    return ["python", "-c", code]


def migrate_container(service: Service) -> dict[str, Any]:
    """The init container that migrates before the service starts (no-op when already at head)."""
    return {
        "name": "migrate",
        "image": image(service.name),
        "imagePullPolicy": "IfNotPresent",
        "command": migrate_command(service),
        "envFrom": ENV_FROM,
        "env": [secret_env(f"{service.prefix}_DATABASE_URL", db_secret(service), "uri")],
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "384Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def scrape_annotations(port: int) -> dict[str, str]:
    """The conventional Prometheus pod annotations (``kubernetes_sd_configs`` role pod)."""
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}


def hook_job(
    name: str,
    job_labels: dict[str, str],
    containers: list[dict[str, Any]],
    volumes: list[dict[str, Any]],
    *,
    backoff_limit: int,
    deadline_s: int,
) -> dict[str, Any]:
    """A Job Argo CD runs as a Sync hook after the configuration and before the workloads (sync waves).

    Not PreSync: Argo CD applies the ConfigMap in the Sync phase, after every PreSync hook, so a
    PreSync Job would wait for it forever on the first sync. A Job's pod template is immutable: Argo CD
    deletes the old Job before creating the new one (``BeforeHookCreation``), and a finished Job
    disappears (``ttlSecondsAfterFinished``) so ``kubectl apply`` can create it again next release.
    """
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": job_labels,
            "annotations": {
                "argocd.argoproj.io/hook": "Sync",
                "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
                "argocd.argoproj.io/sync-wave": JOB_WAVE,
            },
        },
        "spec": {
            "backoffLimit": backoff_limit,
            "activeDeadlineSeconds": deadline_s,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": job_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "containers": containers,
                    "volumes": volumes,
                },
            },
        },
    }
