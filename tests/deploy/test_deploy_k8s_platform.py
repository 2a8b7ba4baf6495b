"""The platform examples (Strimzi, CloudNativePG) against the CRDs of the releases docs/deploy.md
names, one Kafka version everywhere, and Kafka ACLs for every topic and consumer group the code uses."""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose_support import compose_variants
from tests.deploy.crd_support import SCHEMAS, NoSchema, crd_errors, is_custom_resource
from tests.deploy.deploy_support import (
    CLOUDNATIVE_PG_RELEASE,
    DEPLOY_DOC,
    K8S,
    KAFKA_METADATA_VERSION,
    KAFKA_VERSION,
    KUBERNETES_MINORS,
    ROOT,
    STRIMZI_RELEASE,
)
from tests.deploy.kustomize_support import containers, kustomize_build

pytestmark = pytest.mark.unit

PLATFORMS = {"strimzi": K8S / "platform" / "strimzi", "cloudnative-pg": K8S / "platform" / "cloudnative-pg"}
# sha256 of the vendored files (tests/deploy/schemas/README.md says where each comes from).
VENDORED = {
    "strimzi-1.2.0/040-Crd-kafka.yaml": "b5b27fc8d52068a77cde7c40d47c068023c7b4e92fc266c45200db2d2506392a",
    "strimzi-1.2.0/043-Crd-kafkatopic.yaml": "36390f0731c699448076d4ee739e8b7f331d083e91a7fb71500aaa830ab1127e",
    "strimzi-1.2.0/044-Crd-kafkauser.yaml": "c7e91b9b027a516b43dc7d369e781ee23a6ea177ae15fe0c33af6f722e26e05f",
    "strimzi-1.2.0/045-Crd-kafkanodepool.yaml": "411c1b32ef8c1a6408ac9d4fe791115a6ce2b41107204588f976a3ed19be2430",
    "strimzi-1.2.0/kafka-versions.yaml": "a49cf43eb1a0a9a67988c5b41ae26d53b0aaf1b2b8fe13159e89a6c8f9e728b6",
    "cloudnative-pg-1.30.0/postgresql.cnpg.io_clusters.yaml": (
        "ae47f4a00f6e998faef57e480f9a3960cd48ea16a79270861fc7442601507472"
    ),
}


@cache
def platform(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(kustomize_build(PLATFORMS[name]))


def strimzi(kind: str) -> list[dict[str, Any]]:
    return [d for d in platform("strimzi") if d["kind"] == kind]


def test_the_vendored_schemas_are_the_published_files() -> None:
    for name, digest in VENDORED.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name
    assert (SCHEMAS / f"strimzi-{STRIMZI_RELEASE}").is_dir()
    assert (SCHEMAS / f"cloudnative-pg-{CLOUDNATIVE_PG_RELEASE}").is_dir()


@pytest.mark.parametrize("name", PLATFORMS)
def test_platform_examples_match_the_operator_crds(name: str) -> None:
    assert platform(name)
    errors = []
    for document in platform(name):
        assert is_custom_resource(document), f"{document['kind']}: not a Strimzi or CloudNativePG resource"
        errors += [f"{document['kind']}/{document['metadata']['name']}: {e}" for e in crd_errors(document)]
    assert errors == []


def test_crd_validation_catches_mistakes() -> None:
    user = strimzi("KafkaUser")[0]
    with pytest.raises(NoSchema, match="v1beta2"):  # Strimzi 1.x serves only v1
        crd_errors({**user, "apiVersion": "kafka.strimzi.io/v1beta2"})
    acl = {**user["spec"]["authorization"]["acls"][0], "operation": "Read"}  # removed in v1
    broken = {**user, "spec": {**user["spec"], "authorization": {"type": "simple", "acls": [acl]}}}
    assert any("'operation' was unexpected" in e for e in crd_errors(broken))
    cluster = platform("cloudnative-pg")[0]
    broken = {**cluster, "spec": {**cluster["spec"], "instance": 2}}
    assert any("'instance' was unexpected" in e for e in crd_errors(broken))


# ---------------------------------------------------------------- one Kafka version


def kafka_images() -> dict[str, str]:
    """Every apache/kafka image in the compose files and the Kubernetes manifests."""
    images = {}
    for variant, merged in compose_variants().items():
        for name, service in merged["services"].items():
            images[f"compose {variant}: {name}"] = service["image"]
    for document in kustomize_build(K8S / "overlays" / "dev"):
        for container in containers(document):
            images[f"dev overlay: {document['metadata']['name']}"] = container["image"]
    return {where: image for where, image in images.items() if image.startswith("apache/kafka")}


def test_one_kafka_version_everywhere() -> None:
    images = kafka_images()
    assert len(images) >= 3  # compose kafka, the SASL_SSL secrets job, the dev overlay's broker
    assert set(images.values()) == {f"apache/kafka:{KAFKA_VERSION}"}
    kafka = strimzi("Kafka")[0]["spec"]["kafka"]
    assert (kafka["version"], kafka["metadataVersion"]) == (KAFKA_VERSION, KAFKA_METADATA_VERSION)
    # The local broker of `make run` and `make test` runs the same release: faust and aiokafka are
    # tested on what every path deploys.
    from bookshelf_infra.kafka_dist import load_lock

    assert load_lock().kafka_version == KAFKA_VERSION


def test_the_strimzi_release_supports_that_kafka_version() -> None:
    versions = yaml.safe_load((SCHEMAS / f"strimzi-{STRIMZI_RELEASE}" / "kafka-versions.yaml").read_text())
    entry = next(v for v in versions if v["version"] == KAFKA_VERSION)
    assert entry["supported"] is True
    assert entry["metadata"] == KAFKA_METADATA_VERSION


def test_the_deploy_guide_states_the_versions() -> None:
    text = DEPLOY_DOC.read_text()
    minor = ".".join(STRIMZI_RELEASE.split(".")[:2])
    for expected in (
        f"Apache Kafka {KAFKA_VERSION}",
        f"Strimzi {minor}",
        f"CloudNativePG {'.'.join(CLOUDNATIVE_PG_RELEASE.split('.')[:2])}",
        f"Kubernetes {KUBERNETES_MINORS[0]} to {KUBERNETES_MINORS[-1]}",
    ):
        assert expected in text, f"docs/deploy.md does not say {expected!r}"


def test_the_strimzi_example_is_production_shaped() -> None:
    pool = strimzi("KafkaNodePool")[0]["spec"]
    config = strimzi("Kafka")[0]["spec"]["kafka"]["config"]
    assert pool["replicas"] >= 3
    assert set(pool["roles"]) == {"controller", "broker"}
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False


# ---------------------------------------------------------------- ACLs


SOURCES = [*ROOT.glob("services/*/src"), *ROOT.glob("libs/*/src"), ROOT / "tools" / "cli" / "src"]
# Names that hold consumer group ids: COMMANDS_GROUP, catalog_group, APP_ID (faust), group_id=...
# (H_GROUP in libs/messaging dlq.py is a record header name, not a group).
_GROUP_NAME = re.compile(r"(?i)^(?!H_).*(^|_)(group|group_id|group_prefix|app_id)$")


def _constants(node: ast.AST | None) -> Iterable[tuple[str, bool]]:
    """(text, is_prefix) of a group-id expression: a string, an f-string's leading text, a default."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value, False
    elif isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
        yield str(node.values[0].value), True
    elif isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg == "default":
                yield from _constants(keyword.value)


def _target_names(node: ast.AST) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return [t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in targets if t is not None]


@cache
def consumer_groups() -> tuple[frozenset[str], frozenset[str]]:
    """(group ids, prefixes of generated group ids) in the code of the services, libraries and CLI."""
    found: set[tuple[str, bool]] = set()
    for path in (p for source in SOURCES for p in source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):
                found.update(
                    item
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant) and key.value == "group.id"
                    for item in _constants(value)
                )
            elif (isinstance(node, ast.keyword) and node.arg and _GROUP_NAME.match(node.arg)) or (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and any(map(_GROUP_NAME.match, _target_names(node)))
            ):
                names = [node.arg or ""] if isinstance(node, ast.keyword) else _target_names(node)
                named_prefix = any("prefix" in name.lower() for name in names)  # group_prefix="..."
                found.update((text, is_prefix or named_prefix) for text, is_prefix in _constants(node.value))
    return frozenset(t for t, p in found if not p), frozenset(t for t, p in found if p)


def acl_covers(resource_type: str, name: str, operations: set[str], *, prefix: bool = False) -> bool:
    """Whether one ACL of the example KafkaUser allows ``operations`` on ``name`` (or every name
    starting with ``name`` when ``prefix``)."""
    for acl in strimzi("KafkaUser")[0]["spec"]["authorization"]["acls"]:
        resource: Mapping[str, Any] = acl["resource"]
        if resource["type"] != resource_type or not operations <= set(acl["operations"]):
            continue
        if resource.get("patternType") == "prefix" and name.startswith(resource["name"]):
            return True
        if not prefix and resource.get("name", "") in (name, "*"):
            return True
    return False


def test_the_group_scan_finds_the_groups() -> None:
    """Not vacuous: the scan sees constants, settings defaults, faust's app id and throwaway groups."""
    groups, prefixes = consumer_groups()
    assert {
        "catalog.supplier-feed",
        "inventory.commands",
        "fulfillment.saga",
        "observatory.indexer",
    } <= groups
    assert {"bookshelf-dlq-reader-", "bookshelf-trace-scan-", "bookshelf-status-"} <= prefixes


def test_every_consumer_group_in_the_code_has_an_acl() -> None:
    groups, prefixes = consumer_groups()
    needed = {"Read", "Describe"}
    assert sorted(g for g in groups if not acl_covers("group", g, needed)) == []
    assert sorted(p for p in prefixes if not acl_covers("group", p, needed, prefix=True)) == []


def test_every_topic_has_an_acl() -> None:
    from bookshelf_messaging.admin import topic_plan

    needed = {"Describe", "DescribeConfigs", "Read", "Write", "Create"}
    topics = [name for name, _, _ in topic_plan()]
    assert sorted(t for t in topics if not acl_covers("topic", t, needed)) == []
    groups, _ = consumer_groups()
    app_id = next(g for g in groups if g.startswith("fulfillment."))  # faust: changelog and leader topics
    assert acl_covers("topic", f"{app_id}-", needed, prefix=True)
    assert acl_covers("cluster", "", {"Describe", "IdempotentWrite"})


def _deploy_files() -> Iterable[Path]:
    return (p for p in (ROOT / "deploy").rglob("*") if p.suffix in (".yml", ".yaml", ".sh"))


def test_no_manifest_uses_a_removed_strimzi_api() -> None:
    stale = [str(p.relative_to(ROOT)) for p in _deploy_files() if "kafka.strimzi.io/v1beta" in p.read_text()]
    assert stale == []
