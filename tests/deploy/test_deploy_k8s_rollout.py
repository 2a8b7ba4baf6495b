"""How the manifests roll out: Argo CD's sync order (phases, then waves), the HPA owning the replica
count, the cluster CA failing clearly when missing, and the documented Job cleanup."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.deploy.deploy_support import DEPLOY_DOC
from tests.deploy.kustomize_support import (
    KUSTOMIZATIONS,
    built,
    containers,
    is_bookshelf_image,
    key,
    of_kind,
    pod_spec,
)

pytestmark = pytest.mark.unit

WORKLOADS = ("Deployment", "StatefulSet")
# Argo CD syncs PreSync hooks, then the Sync phase (resources and Sync hooks), then PostSync; within a
# phase by sync wave, and waits for each wave to be healthy (a hook Job: completed) before the next.
PHASES = {"PreSync": 0, "Sync": 1, "PostSync": 2}


def sync_position(document: Mapping[str, Any]) -> tuple[int, int]:
    """(phase, wave) of a resource in an Argo CD sync."""
    annotations = document["metadata"].get("annotations", {})
    phase = PHASES[annotations.get("argocd.argoproj.io/hook", "Sync")]
    return phase, int(annotations.get("argocd.argoproj.io/sync-wave", "0"))


def references(document: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(kind, name, optional) of every ConfigMap and Secret a workload's pods read."""
    spec = pod_spec(document) or {}
    for container in containers(document):
        for source in container.get("envFrom", []):
            for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if field in source:
                    yield kind, source[field]["name"], source[field].get("optional", False)
        for entry in container.get("env", []):
            for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if ref := entry.get("valueFrom", {}).get(field):
                    yield kind, ref["name"], ref.get("optional", False)
    for volume in spec.get("volumes", []):
        for source in [volume, *volume.get("projected", {}).get("sources", [])]:
            if "secret" in source:
                secret = source["secret"]
                yield "Secret", secret.get("secretName", secret.get("name")), secret.get("optional", False)
            if "configMap" in source:
                yield "ConfigMap", source["configMap"]["name"], source["configMap"].get("optional", False)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_argo_cd_creates_what_a_pod_reads_before_the_pod(name: str) -> None:
    """The first sync deadlocked: PreSync Jobs waited for a ConfigMap that the Sync phase creates.

    Argo CD applies a wave only once the earlier ones are healthy, so what a pod reads must come in an
    earlier or the same wave (within a wave, ConfigMaps and Secrets are applied before workloads)."""
    positions = {(d["kind"], d["metadata"]["name"]): sync_position(d) for d in built(name)}
    late = []
    for document in of_kind(name, "Job", *WORKLOADS):
        for kind, ref, _ in references(document):
            if (kind, ref) in positions and positions[(kind, ref)] > sync_position(document):
                late.append(
                    f"{key(document)} {sync_position(document)} reads {kind}/{ref} {positions[(kind, ref)]}"
                )
    assert late == []
    namespace = next(iter(of_kind(name, "Namespace")))
    assert all(sync_position(namespace) < sync_position(d) for d in built(name) if d is not namespace)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_jobs_are_sync_hooks_between_the_configuration_and_the_workloads(name: str) -> None:
    jobs = [j for j in of_kind(name, "Job") if is_bookshelf_image(containers(j)[0]["image"])]
    assert {j["metadata"]["name"] for j in jobs} >= {"kafka-topics", "catalog-migrate"}
    workloads = [w for w in of_kind(name, *WORKLOADS) if is_bookshelf_image(containers(w)[0]["image"])]
    others = [d for d in of_kind(name, *WORKLOADS, "Job") if d not in jobs and d not in workloads]
    for job in jobs:
        annotations = job["metadata"]["annotations"]
        assert annotations["argocd.argoproj.io/hook"] == "Sync", key(job)
        # A Job's template is immutable: the next sync deletes the old one first.
        assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation", key(job)
        assert all(sync_position(job) < sync_position(w) for w in workloads), key(job)
        # The dev overlay's Kafka, PostgreSQL and postgres-init come before the topics and migrations.
        assert all(sync_position(other) < sync_position(job) for other in others), key(job)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_autoscaled_deployments_leave_the_replica_count_to_the_hpa(name: str) -> None:
    """A replicas field would reset the HPA's count on every kubectl apply or Argo CD sync."""
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(name, "HorizontalPodAutoscaler")}
    assert scaled
    for deployment in of_kind(name, "Deployment"):
        autoscaled = deployment["metadata"]["name"] in scaled
        assert ("replicas" in deployment["spec"]) is not autoscaled, key(deployment)


def test_the_cluster_ca_is_required_where_kafka_clients_use_it() -> None:
    """A forgotten CA copy keeps the pods in ContainerCreating ("secret not found"), not crashing later."""
    config = next(d for d in of_kind("base", "ConfigMap") if d["metadata"]["name"] == "bookshelf-config")
    assert config["data"]["KAFKA_SSL_CAFILE"] == "/etc/bookshelf/kafka/ca.crt"
    mounts = {
        (key(d), m["mountPath"])
        for d in built("base")
        for c in containers(d)
        for m in c.get("volumeMounts", [])
    }
    pods = [d for d in of_kind("base", "Job", *WORKLOADS) if (key(d), "/etc/bookshelf/kafka") in mounts]
    assert len(pods) == len(of_kind("base", *WORKLOADS)) + 1  # and the kafka-topics Job
    for document in pods:
        ca = [
            (kind, optional)
            for kind, ref, optional in references(document)
            if ref == "bookshelf-cluster-ca-cert"
        ]
        assert ca == [("Secret", False)], key(document)


def test_the_dev_overlay_defines_everything_its_pods_require() -> None:
    defined = {(d["kind"], d["metadata"]["name"]) for d in built("dev")}
    missing = {
        f"{key(document)}: {kind}/{ref}"
        for document in of_kind("dev", "Job", *WORKLOADS)
        for kind, ref, optional in references(document)
        if not optional and (kind, ref) not in defined
    }
    assert missing == set()


def _selects(selector: str, labels: Mapping[str, str]) -> bool:
    """A label selector of the forms ``k=v`` and ``k in (a,b)``, comma-separated."""
    for label, values in re.findall(r"([\w./-]+) in \(([^)]*)\)", selector):
        if labels.get(label) not in [v.strip() for v in values.split(",")]:
            return False
    rest = re.sub(r"[\w./-]+ in \([^)]*\)", "", selector)
    return all(labels.get(k) == v for k, v in re.findall(r"([\w./-]+)=([\w.-]+)", rest))


def test_the_documented_job_cleanup_selects_every_job() -> None:
    """docs/deploy.md: delete finished Jobs before a release inside their hour (immutable templates)."""
    selectors = re.findall(r"kubectl [^`]*delete job -l '([^']+)'", DEPLOY_DOC.read_text())
    assert selectors, "docs/deploy.md no longer documents the Job cleanup"
    for selector in selectors:
        jobs = of_kind("base", "Job")
        assert [key(j) for j in jobs if not _selects(selector, j["metadata"]["labels"])] == []
