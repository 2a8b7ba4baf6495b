"""Every environment variable a service reads reaches it in compose and in Kubernetes, and is
documented in .env.example. The variables come from the services' pydantic-settings classes, so a new
setting fails here until it is wired and documented."""

from __future__ import annotations

from functools import cache

import pytest

from tests.deploy.compose_support import compose_variants, interpolated_variables
from tests.deploy.deploy_support import (
    COMPOSE_FILE,
    COMPOSE_OVERRIDES,
    DEPLOYABLES,
    K8S,
    env_example_variables,
    load_yaml,
    service_variables,
)
from tests.deploy.kustomize_support import kustomize_build

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("item", DEPLOYABLES, ids=lambda d: d.name)
def test_every_variable_a_service_reads_is_in_docker_compose(item) -> None:
    environment = compose_variants()["base"]["services"][item.name]["environment"]
    missing = service_variables(item) - set(environment)
    assert missing == set(), (
        f"add to {item.name}'s environment in docker-compose.yml (no value = pass-through)"
    )


@pytest.mark.parametrize("item", DEPLOYABLES, ids=lambda d: d.name)
def test_every_variable_a_service_reads_is_documented_in_env_example(item) -> None:
    missing = service_variables(item) - env_example_variables()
    assert missing == set(), "document them in .env.example"


def test_every_variable_compose_interpolates_is_documented_in_env_example() -> None:
    used = set()
    for path in [COMPOSE_FILE, *COMPOSE_OVERRIDES.values()]:
        used |= {name for name, _, _ in interpolated_variables(load_yaml(path))}
    assert used - env_example_variables() == set()


def test_env_example_holds_no_value_for_a_secret() -> None:
    """Every assignment is commented out, and secrets have no example value at all."""
    for line in (K8S.parents[1] / ".env.example").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            if "=" in stripped and any(w in stripped.split("=")[0] for w in ("PASSWORD", "SECRET", "TOKEN")):
                assert stripped.endswith("="), f"example value for a secret: {stripped}"
            continue
        pytest.fail(f".env.example sets a variable (copying it would override defaults): {line}")


@cache
def base_documents() -> tuple[dict, ...]:
    return tuple(kustomize_build(K8S / "base"))


def kubernetes_environment(name: str) -> tuple[set[str], set[str]]:
    """Variables reaching the main container of the workloads of ``name``: (env, shared ConfigMap)."""
    documents = base_documents()
    config = next(
        d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "bookshelf-config"
    )
    explicit: set[str] = set()
    shared: set[str] = set()
    for document in documents:
        if document["kind"] not in ("Deployment", "StatefulSet"):
            continue
        if document["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] != name:
            continue
        container = document["spec"]["template"]["spec"]["containers"][0]
        explicit |= {entry["name"] for entry in container.get("env", [])}
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] == "bookshelf-config"
            shared |= set(config["data"])
    return explicit, shared


@pytest.mark.parametrize("item", DEPLOYABLES, ids=lambda d: d.name)
def test_kubernetes_passes_what_a_service_needs(item) -> None:
    """Address, database, secrets and Kafka settings: the variables without a usable default
    (the others keep their defaults and are documented in .env.example)."""
    explicit, shared = kubernetes_environment(item.name)
    prefix = item.spec.env_prefix
    needed = {f"{prefix}_HOST", f"{prefix}_PORT", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL"}
    needed |= {"KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE"}
    if item.spec.database:
        needed |= {f"{prefix}_DATABASE_URL", "BOOKSHELF_ENV"}
        if item.name != "fulfillment":  # the saga worker's web view takes no staff token
            needed.add("BOOKSHELF_ADMIN_TOKEN")
    if item.name == "catalog":
        needed.add("SUPPLIER_WEBHOOK_SECRET")
    if item.name == "ordering":
        needed.add("ORDERING_ACCESS_TOKEN_SECRET")
    if item.name == "fulfillment":
        needed |= {"FULFILLMENT_ADVERTISED_HOST", "BOOKSHELF_ENV", "BOOKSHELF_ADMIN_TOKEN"}
    if item.name == "observatory":
        needed.add("OBSERVATORY_SERVICES")
    assert needed <= service_variables(item), "the test names a variable the service does not read"
    assert needed - (explicit | shared) == set()
    unknown = explicit - service_variables(item) - {"POD_NAME", "POD_NAMESPACE"}
    assert unknown == set(), "the manifests set variables the service does not read"
