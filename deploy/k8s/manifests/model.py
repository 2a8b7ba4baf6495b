"""How a Bookshelf process is described: its roles (replicas, resources, shutdown, autoscaling), the
services with a database, and where their secrets come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PART_OF = "bookshelf"
UID = 10001
DATA_DIR = "/var/lib/bookshelf"
# A registry that cannot resolve (RFC 6761 ".invalid"): an overlay that forgets to set its own fails to
# pull with this name in the error instead of pulling bookshelf/<service> from someone's Docker Hub.
IMAGE_REGISTRY = "registry.invalid"
# Argo CD sync wave of the Jobs (Sync hooks): after the namespace (-3) and the configuration (-2),
# before the workloads (0). docs/deploy.md "Argo CD".
JOB_WAVE = "-1"


@dataclass(frozen=True)
class RoleSpec:
    """How one process role is run: replicas, resources, shutdown time, autoscaling."""

    replicas: int
    cpu: str
    memory: str
    memory_limit: str
    grace_s: int
    hpa_max: int | None = None  # consumers scale up to the partition count (6)
    # With an HPA, ``replicas`` is its minimum and the Deployment leaves the count to it.


ROLES: dict[str, RoleSpec] = {
    # HTTP only; behind a Service; endpoints removed (preStop) before uvicorn stops.
    "api": RoleSpec(replicas=2, cpu="100m", memory="192Mi", memory_limit="512Mi", grace_s=30),
    # One relay per database publishes (advisory lock); the second replica is a warm standby.
    "relay": RoleSpec(replicas=2, cpu="50m", memory="128Mi", memory_limit="384Mi", grace_s=30),
    # Consumer-group members: more than the partition count (6) would sit idle.
    "consumers": RoleSpec(
        replicas=2, cpu="200m", memory="256Mi", memory_limit="640Mi", grace_s=90, hpa_max=6
    ),
    # Everything in one process (the observatory: dashboard + indexer).
    "all": RoleSpec(replicas=1, cpu="200m", memory="256Mi", memory_limit="640Mi", grace_s=90),
}


@dataclass(frozen=True)
class Service:
    """One deployable with a database, run as ``python -m <module> --role <role>``."""

    name: str
    module: str
    port: int
    prefix: str
    database: str
    roles: tuple[str, ...]
    env: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def secret_env(name: str, secret: str, key: str, *, optional: bool = False) -> dict[str, Any]:
    """An environment variable read from a Secret key."""
    ref: dict[str, Any] = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def db_secret(service: Service) -> str:
    """The Secret holding a service's database URL under ``uri``.

    CloudNativePG's name for the application Secret of a Cluster ``<database>-db``, so one Cluster per
    service needs no glue (deploy/k8s/platform/cloudnative-pg); other platforms create it by that name.
    """
    return f"{service.database}-db-app"
