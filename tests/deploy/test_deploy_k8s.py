"""The Kubernetes manifests: built with kustomize, validated against the Kubernetes OpenAPI schemas of
each Kubernetes minor docs/deploy.md supports (kubernetes-validate, strict: unknown fields fail), and
checked for what schemas cannot see. Custom resources: test_deploy_k8s_platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.deploy_support import DEPLOYABLES, K8S, KUBERNETES_MINORS, ROOT, load_yaml_documents
from tests.deploy.kustomize_support import (
    KUSTOMIZATIONS,
    built,
    containers,
    fallback_build,
    is_bookshelf_image,
    key,
    kustomize_build,
    kustomize_tool,
    of_kind,
    pod_spec,
)

pytestmark = pytest.mark.unit

# The Kubernetes minors both operators support (docs/deploy.md "Versions").
KUBERNETES_VERSIONS = [f"{minor}.0" for minor in KUBERNETES_MINORS]
PARTITIONS = 6
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def test_generated_manifests_are_current() -> None:
    from deploy.k8s import generate

    stale = [name for name, text in generate.files().items() if (K8S / name).read_text() != text]
    assert stale == [], "run: uv run python deploy/k8s/generate.py"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kustomize_builds(name: str) -> None:
    kinds = {d["kind"] for d in built(name)}
    assert {"Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    assert {"Job", "ConfigMap"} <= kinds
    names = [key(d) for d in built(name)]
    assert len(names) == len(set(names)), "duplicate resources"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_manifests_match_the_kubernetes_schemas(name: str, version: str) -> None:
    errors = []
    for document in built(name):
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{key(document)}: {exc.message} at {'/'.join(map(str, exc.path))}")
    assert errors == []


def test_schema_validation_catches_mistakes() -> None:
    deployment = dict(of_kind("base", "Deployment")[0])
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.skipif(kustomize_tool() is None, reason="neither kubectl nor kustomize is installed")
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_fallback_builder_agrees_with_kustomize(name: str) -> None:
    """Where kubectl is missing, the tests build with kustomize_support.fallback_build: same output."""
    real = {key(d): d for d in built(name)}
    fallback = {key(d): d for d in fallback_build(KUSTOMIZATIONS[name])}
    assert sorted(fallback) == sorted(real)
    assert [k for k in real if real[k] != fallback[k]] == []


# ---------------------------------------------------------------- workloads


def main_containers(name: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload, pod spec, first container) of every long-running workload."""
    out = []
    for document in of_kind(name, "Deployment", "StatefulSet"):
        spec = pod_spec(document)
        assert spec is not None
        out.append((key(document), spec, spec["containers"][0]))
    return out


def bookshelf_main_containers() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [item for item in main_containers("base") if is_bookshelf_image(item[2]["image"])]


def test_probes_resources_and_graceful_shutdown() -> None:
    for workload, spec, container in bookshelf_main_containers():
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", workload
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", workload
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", workload
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), workload
        assert "memory" in container["resources"]["limits"], workload
        assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep", workload
        # Longer than preStop + the runtime's per-runner stop timeout (15 s).
        assert spec["terminationGracePeriodSeconds"] >= 30, workload


def test_pods_run_as_non_root_with_a_read_only_root_filesystem() -> None:
    for document in of_kind("base", *WORKLOADS):
        spec = pod_spec(document)
        assert spec["securityContext"]["runAsNonRoot"] is True, key(document)
        assert spec["securityContext"]["runAsUser"] == 10001, key(document)  # the Dockerfiles' user
        assert spec["automountServiceAccountToken"] is False, key(document)
        assert spec["enableServiceLinks"] is False, key(document)
        for container in containers(document):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, key(document)
            assert security["allowPrivilegeEscalation"] is False, key(document)
            assert security["capabilities"]["drop"] == ["ALL"], key(document)
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{key(document)}: Python needs a writable /tmp"


@pytest.mark.parametrize("item", [d for d in DEPLOYABLES if d.spec.database], ids=lambda d: d.name)
def test_services_run_each_role_with_migrations_first(item) -> None:
    # The saga worker is a StatefulSet of faust workers (no roles); every other service a Deployment per role.
    kind = "StatefulSet" if item.name == "fulfillment" else "Deployment"
    deployments = {
        d["metadata"]["name"]: d
        for d in of_kind("base", kind)
        if d["metadata"]["labels"]["app.kubernetes.io/name"] == item.name
    }
    assert deployments, f"no {kind} for {item.name}"
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        role = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        if kind == "Deployment":
            assert spec["containers"][0]["args"] == ["--role", role], name
        init = spec["initContainers"][0]
        assert f"from {item.spec.module}.migrations import upgrade" in init["command"][-1], name
    job = next(d for d in of_kind("base", "Job") if d["metadata"]["name"] == f"{item.name}-migrate")
    assert f"from {item.spec.module}.migrations import upgrade" in containers(job)[0]["command"][-1]
    assert job["spec"]["ttlSecondsAfterFinished"] > 0  # the next release can recreate it


def test_relays_run_two_replicas_for_failover() -> None:
    relays = [d for d in of_kind("base", "Deployment") if d["metadata"]["name"].endswith("-relay")]
    assert {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in relays} == {
        "catalog",
        "ordering",
        "inventory",
        "shipping",
    }
    assert all(d["spec"]["replicas"] == 2 for d in relays)


def test_consumers_autoscale_up_to_the_partition_count() -> None:
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in of_kind("base", "HorizontalPodAutoscaler")}
    consumers = {
        d["metadata"]["name"]
        for d in of_kind("base", "Deployment")
        if d["metadata"]["name"].endswith("-consumers")
    }
    assert set(hpas) == consumers
    for hpa in hpas.values():
        assert hpa["spec"]["maxReplicas"] == PARTITIONS
        assert 1 <= hpa["spec"]["minReplicas"] <= PARTITIONS


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_disruption_budgets_and_services_select_pods_that_exist(name: str) -> None:
    templates = [
        d["spec"]["template"]["metadata"]["labels"] for d in of_kind(name, "Deployment", "StatefulSet")
    ]

    def matches(selector: Mapping[str, str]) -> bool:
        return any(all(labels.get(k) == v for k, v in selector.items()) for labels in templates)

    for pdb in of_kind(name, "PodDisruptionBudget"):
        assert matches(pdb["spec"]["selector"]["matchLabels"]), key(pdb)
    for service in of_kind(name, "Service"):
        assert matches(service["spec"]["selector"]), key(service)
    for workload in of_kind(name, "Deployment", "StatefulSet"):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), key(workload)


def test_every_multi_replica_workload_has_a_disruption_budget() -> None:
    budgets = [d["spec"]["selector"]["matchLabels"] for d in of_kind("base", "PodDisruptionBudget")]
    minimum = {
        d["spec"]["scaleTargetRef"]["name"]: d["spec"]["minReplicas"]
        for d in of_kind("base", "HorizontalPodAutoscaler")
    }
    for workload in of_kind("base", "Deployment", "StatefulSet"):
        if workload["spec"].get("replicas", minimum.get(workload["metadata"]["name"], 1)) > 1:
            labels = workload["spec"]["template"]["metadata"]["labels"]
            assert any(b.items() <= labels.items() for b in budgets), key(workload)


def test_the_saga_worker_is_a_statefulset_with_routable_identities() -> None:
    worker = next(d for d in of_kind("base", "StatefulSet") if d["metadata"]["name"] == "fulfillment")
    headless = next(
        d for d in of_kind("base", "Service") if d["metadata"]["name"] == worker["spec"]["serviceName"]
    )
    assert headless["spec"]["clusterIP"] == "None"
    env = {e["name"]: e for e in pod_spec(worker)["containers"][0]["env"]}
    assert (
        env["FULFILLMENT_ADVERTISED_HOST"]["value"] == "$(POD_NAME).fulfillment-workers.$(POD_NAMESPACE).svc"
    )
    # Variables referenced as $(VAR) must be defined before (Kubernetes expands in order).
    names = list(env)
    assert names.index("POD_NAME") < names.index("FULFILLMENT_ADVERTISED_HOST")
    assert 1 <= worker["spec"]["replicas"] <= PARTITIONS


def test_secrets_are_referenced_in_the_base_and_defined_only_with_dev_values_in_the_dev_overlay() -> None:
    assert of_kind("base", "Secret") == [], (
        "the base references Secrets; overlays or the platform provide them"
    )
    dev_secrets = {d["metadata"]["name"]: d for d in of_kind("dev", "Secret")}
    for name, secret in dev_secrets.items():
        for field, value in secret["stringData"].items():
            assert "dev-" in value, f"{name}.{field} is not an obvious dev value"
    for document in of_kind("dev", *WORKLOADS):
        for container in containers(document):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    assert ref["key"] in dev_secrets[ref["name"]]["stringData"], f"{key(document)}: {ref}"
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in dev_secrets


def test_dev_overlay_runs_local_images_in_its_namespace_and_never_pulls_them() -> None:
    """A bare bookshelf/<svc> would be pulled from a Docker Hub namespace this project does not own."""
    assert [d["metadata"]["name"] for d in of_kind("dev", "Namespace")] == ["bookshelf-dev"]
    bookshelf = 0
    for document in built("dev"):
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "bookshelf-dev", key(document)
        for container in containers(document):
            if is_bookshelf_image(container["image"]):
                bookshelf += 1
                assert container["image"].startswith("localhost/bookshelf/"), key(document)
                assert container["image"].endswith(":dev"), key(document)
                assert container["imagePullPolicy"] == "Never", key(document)
    assert bookshelf == sum(len(containers(d)) for d in of_kind("base", *WORKLOADS))


def test_the_base_names_a_registry_placeholder_and_its_own_namespace() -> None:
    assert [d["metadata"]["name"] for d in of_kind("base", "Namespace")] == ["bookshelf"]
    for document in built("base"):
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "bookshelf", key(document)
    for container in (c for d in of_kind("base", *WORKLOADS) for c in containers(d)):
        assert container["image"].startswith("registry.invalid/bookshelf/"), container["image"]
        assert container["image"].endswith(":0.1.0"), container["image"]


def test_dev_overlay_runs_the_one_database_script() -> None:
    """The dev overlay's postgres-init ConfigMap holds deploy/postgres/create-databases.sh as it is
    (built from that file, not a copy of it), in the overlay's namespace."""
    original = ROOT / "deploy" / "postgres" / "create-databases.sh"
    assert list((K8S / "overlays" / "dev").glob("*.sh")) == []
    [script] = [
        d
        for d in built("dev")
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "postgres-init-script"
    ]
    assert script["data"] == {"create-databases.sh": original.read_text()}
    assert script["metadata"]["namespace"] == "bookshelf-dev"


def test_strimzi_topics_are_the_topic_plan() -> None:
    """Platform topics come from the contracts (deploy/k8s/generate.py), configured as ensure_topics
    creates them (kept forever, or compacted DLQs), with 3 replicas of which 2 must be in sync."""
    from bookshelf_messaging.admin import topic_config, topic_plan

    documents = load_yaml_documents((K8S / "platform" / "strimzi" / "topics.yaml").read_text())
    topics = {d["spec"]["topicName"]: d["spec"] for d in documents}
    assert sorted(topics) == sorted(name for name, _, _ in topic_plan())
    for name, partitions, compacted in topic_plan():
        assert topics[name]["partitions"] == partitions
        assert topics[name]["replicas"] == 3
        config = {key: str(value) for key, value in topics[name]["config"].items()}
        assert config == topic_config(compacted, 3), name
        assert config["min.insync.replicas"] == "2"
        assert (config.get("cleanup.policy") == "compact") == compacted


@pytest.mark.parametrize("platform", ["strimzi", "cloudnative-pg"])
def test_platform_examples_build(platform: str) -> None:
    documents = kustomize_build(K8S / "platform" / platform)
    assert documents
    if platform == "cloudnative-pg":
        clusters = {d["metadata"]["name"] for d in documents}
        secrets = {
            ref["name"]
            for d in of_kind("base", *WORKLOADS)
            for c in containers(d)
            for e in c.get("env", [])
            if (ref := e.get("valueFrom", {}).get("secretKeyRef")) and ref["name"].endswith("-db-app")
        }
        # CloudNativePG names the application Secret of Cluster X "X-app".
        assert secrets == {f"{cluster}-app" for cluster in clusters}
