"""docker-compose.yml and its overrides, checked without a Docker engine.

The Compose Specification JSON Schema validates the shape; the other tests check what the schema
cannot: the start-up graph (every service reached through health or completion conditions, every job
adopted so ``up --wait`` returns), the topic and database jobs, secrets only from the environment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema
import pytest

from tests.deploy.compose_support import (
    MissingVariable,
    compose_variants,
    interpolate,
    interpolated_variables,
    is_one_shot,
)
from tests.deploy.deploy_support import (
    COMPOSE_COMBINATIONS,
    COMPOSE_FILE,
    COMPOSE_OVERRIDES,
    DEPLOYABLES,
    ROOT,
    load_yaml,
    service_variables,
)

pytestmark = pytest.mark.unit

SCHEMA_PATH = ROOT / "tests" / "deploy" / "schemas" / "compose-spec.json"
# schema/compose-spec.json of github.com/compose-spec/compose-spec at 170098ba (tests/deploy/schemas).
SCHEMA_SHA256 = "1f91e091f16b2dd50ab8860e02bb391d22df553d91c145eacedb1b6eff9c3f0e"
VARIANTS = list(COMPOSE_COMBINATIONS)


@cache
def schema_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    # jsonschema does not map the schema's "https://json-schema.org/draft-07/schema" to a draft itself.
    assert "draft-07" in schema["$schema"], "a new draft: choose its validator class here"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(document: Any) -> list[str]:
    errors = sorted(schema_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


@cache
def variants() -> dict[str, dict[str, Any]]:
    return compose_variants()


def services(variant: str) -> dict[str, dict[str, Any]]:
    return variants()[variant]["services"]


def test_the_vendored_schema_is_the_published_file() -> None:
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256, (
        "tests/deploy/schemas/compose-spec.json changed; see tests/deploy/schemas/README.md"
    )


@pytest.mark.parametrize("path", [COMPOSE_FILE, *COMPOSE_OVERRIDES.values()], ids=lambda p: p.name)
def test_each_compose_file_matches_the_compose_schema(path) -> None:
    assert schema_errors(load_yaml(path)) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_merged_files_match_the_compose_schema(variant: str) -> None:
    assert schema_errors(variants()[variant]) == []


def test_the_schema_catches_mistakes() -> None:
    """The validation is not vacuous: a misspelt key and an unknown condition are rejected."""
    broken = json.loads(json.dumps(variants()["base"]))
    broken["services"]["catalog"]["healthchek"] = broken["services"]["catalog"].pop("healthcheck")
    broken["services"]["ordering"]["depends_on"]["kafka"]["condition"] = "service_ready"
    errors = "\n".join(schema_errors(broken))
    assert "services/catalog" in errors
    assert "healthchek" in errors
    assert "services/ordering/depends_on" in errors


# ---------------------------------------------------------------- start-up graph


@pytest.mark.parametrize("variant", VARIANTS)
def test_dependencies_exist_and_wait_for_health_or_completion(variant: str) -> None:
    all_services = services(variant)
    problems = []
    for name, service in all_services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, Mapping), f"{name}: use the long depends_on syntax with conditions"
        for dependency, rule in depends_on.items():
            if dependency not in all_services:
                problems.append(f"{name} -> {dependency}: no such service")
                continue
            expected = (
                "service_completed_successfully"
                if is_one_shot(all_services[dependency])
                else "service_healthy"
            )
            if rule.get("condition") != expected:
                problems.append(f"{name} -> {dependency}: condition {rule.get('condition')}, want {expected}")
    assert problems == []


# Distroless images: nothing inside to probe with; nothing waits for them to be healthy.
NO_HEALTHCHECK = {"otel-collector"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_long_running_service_has_a_healthcheck_and_a_restart_policy(variant: str) -> None:
    for name, service in services(variant).items():
        assert "restart" in service, f"{name}: say restart: unless-stopped, or restart: 'no' for a job"
        if name in NO_HEALTHCHECK:
            assert not any(name in (s.get("depends_on") or {}) for s in services(variant).values())
            continue
        if is_one_shot(service):
            assert "healthcheck" not in service, f"{name}: a job is waited for by completion"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name}: no healthcheck"
        assert not check.get("disable"), f"{name}: healthcheck disabled"


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_graph_has_no_cycle_and_every_service_starts(variant: str) -> None:
    """Simulate the start: a service starts once its dependencies are healthy or completed."""
    all_services = services(variant)
    started: list[str] = []
    pending = dict(all_services)
    while pending:
        ready = [n for n, s in pending.items() if set(s.get("depends_on", {})) <= set(started)]
        assert ready, f"these never start (a cycle or a missing dependency): {sorted(pending)}"
        for name in sorted(ready):
            started.append(name)
            del pending[name]
    assert set(started) == set(all_services)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_job_is_awaited_by_a_dependant_so_up_wait_succeeds(variant: str) -> None:
    """`docker compose up --wait` fails on an exited container nobody waits for (docker/compose#10596)."""
    all_services = services(variant)
    awaited = {
        dependency
        for service in all_services.values()
        for dependency, rule in service.get("depends_on", {}).items()
        if rule.get("condition") == "service_completed_successfully"
    }
    jobs = {name for name, service in all_services.items() if is_one_shot(service)}
    assert jobs - awaited == set()


def ancestors(all_services: Mapping[str, Any], name: str) -> set[str]:
    seen: set[str] = set()
    stack = list(all_services[name].get("depends_on", {}))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(all_services[current].get("depends_on", {}))
    return seen


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("item", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_starts_after_kafka_topics_and_its_database(variant: str, item) -> None:
    all_services = services(variant)
    assert item.name in all_services, f"{item.name} is missing from docker-compose.yml"
    before = ancestors(all_services, item.name)
    assert {"kafka", "kafka-topics"} <= before
    if item.spec.database:
        migrate = f"{item.spec.database}-migrate"
        assert {"postgres", "postgres-init", migrate} <= before
        assert all_services[item.name]["depends_on"][migrate]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("item", [d for d in DEPLOYABLES if d.spec.database], ids=lambda d: d.name)
def test_migration_jobs_run_the_services_own_migrations_with_its_url(item) -> None:
    job = services("base")[f"{item.spec.database}-migrate"]
    service = services("base")[item.name]
    variable = f"{item.spec.env_prefix}_DATABASE_URL"
    assert job["image"] == service["image"]
    assert f"from {item.spec.module}.migrations import upgrade" in " ".join(job["entrypoint"])
    assert f"os.environ['{variable}']" in " ".join(job["entrypoint"])
    assert job["environment"][variable] == service["environment"][variable]


def test_topics_come_from_the_contracts_through_ensure_topics() -> None:
    """One source of truth: the job runs the services' own topic code (partitions, compacted DLQs)."""
    job = services("base")["kafka-topics"]
    code = " ".join(job["entrypoint"])
    assert "ensure_topics_sync(KafkaSettings())" in code
    assert job["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
    kafka = services("base")["kafka"]["environment"]
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_kafka_is_the_official_image_and_kafka_ui_watches_it() -> None:
    kafka, ui = services("base")["kafka"], services("base")["kafka-ui"]
    assert kafka["image"].startswith("apache/kafka:"), "the Apache Kafka project's own image"
    assert "ZOOKEEPER" not in " ".join(kafka["environment"]).upper()
    assert ui["environment"]["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == "kafka:19092"
    assert ui["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert ui["image"].startswith("kafbat/kafka-ui:"), "the maintained Kafka UI, not the archived one"


def test_topic_plan_has_bulk_lanes_and_compacted_dlqs_with_six_partitions() -> None:
    from bookshelf_contracts import all_topic_names
    from bookshelf_messaging.admin import topic_plan

    plan = topic_plan()
    assert [name for name, _, _ in plan] == all_topic_names()
    assert {partitions for _, partitions, _ in plan} == {6}
    assert {name for name, _, compacted in plan if compacted} == {
        n for n in all_topic_names() if n.endswith(".dlq")
    }


def test_one_database_per_service_is_created_before_migrations() -> None:
    init = services("base")["postgres-init"]
    databases = set(init["environment"]["BOOKSHELF_DATABASES"].split())
    assert databases == {d.spec.database for d in DEPLOYABLES if d.spec.database}
    assert "./deploy/postgres:/bookshelf:ro" in init["volumes"]
    assert init["entrypoint"] == ["/bin/sh", "/bookshelf/create-databases.sh"]


def test_services_bind_all_interfaces_on_their_api_md_port() -> None:
    for item in DEPLOYABLES:
        service = services("base")[item.name]
        env = service["environment"]
        assert env[f"{item.spec.env_prefix}_HOST"] == "0.0.0.0"
        assert str(env[f"{item.spec.env_prefix}_PORT"]) == str(item.spec.port)
        assert any(str(p).endswith(f":{item.spec.port}:{item.spec.port}") for p in service["ports"])
        assert f"127.0.0.1:{item.spec.port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_monitoring_mounts_the_rules_and_the_dashboard() -> None:
    prometheus, grafana = services("base")["prometheus"], services("base")["grafana"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]
    assert "./deploy/grafana/bookshelf.json:/etc/grafana/dashboards/bookshelf.json:ro" in grafana["volumes"]
    datasource = load_yaml(ROOT / "deploy/compose/grafana/provisioning/datasources/prometheus.yml")
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = load_yaml(ROOT / "deploy/compose/grafana/provisioning/dashboards/bookshelf.yml")
    assert provider["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


def bind_mount_sources(variant: str) -> set[str]:
    sources = set()
    for service in services(variant).values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("./"):
                sources.add(source[2:])
    return sources


# Written by the monitoring work, not by deploy: checked once they exist.
MONITORING_FILES = {
    "deploy/prometheus/prometheus.yml",
    "deploy/prometheus/alerts.yml",
    "deploy/grafana/bookshelf.json",
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_bind_mounted_files_exist(variant: str) -> None:
    missing = {s for s in bind_mount_sources(variant) - MONITORING_FILES if not (ROOT / s).exists()}
    assert missing == set()


@pytest.mark.parametrize("path", sorted(MONITORING_FILES))
def test_monitoring_files_exist(path: str) -> None:
    if not (ROOT / path).exists():
        pytest.skip(f"{path} is not written yet (monitoring); compose mounts it from there")
    assert (ROOT / path).stat().st_size > 0


# ---------------------------------------------------------------- secrets and interpolation


def test_dev_mode_needs_no_variable_at_all() -> None:
    interpolate(variants()["base"], {})  # raises MissingVariable otherwise
    interpolate(variants()["base"], {"BOOKSHELF_ENV": "dev"})


SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN")


def test_compose_defaults_of_secrets_are_marked_dev_only() -> None:
    for path in [COMPOSE_FILE, *COMPOSE_OVERRIDES.values()]:
        for name, op, arg in interpolated_variables(load_yaml(path)):
            if any(word in name for word in SECRET_WORDS) and op in (":-", "-"):
                assert arg.startswith("dev-"), f"{path.name}: ${{{name}}} defaults to {arg!r}"


def secret_variables() -> set[str]:
    names = {n for n, *_ in interpolated_variables(variants()["prod"]) if any(w in n for w in SECRET_WORDS)}
    return names | {"BOOKSHELF_ADMIN_TOKEN", "SUPPLIER_WEBHOOK_SECRET"}


def test_prod_override_requires_every_secret() -> None:
    required = {
        name for name, op, _ in interpolated_variables(load_yaml(COMPOSE_OVERRIDES["prod"])) if op == ":?"
    }
    assert secret_variables() - {"KAFKA_SASL_PASSWORD"} <= required
    with pytest.raises(MissingVariable, match=r"BOOKSHELF_ADMIN_TOKEN|_PASSWORD|SECRET"):
        interpolate(variants()["prod"], {})


def test_prod_override_runs_every_service_in_prod_mode_with_real_secrets() -> None:
    env = {name: f"real-{name.lower()}" for name in secret_variables()}
    prod = interpolate(variants()["prod"], env)
    for item in DEPLOYABLES:
        environment = prod["services"][item.name]["environment"]
        if "BOOKSHELF_ENV" in environment:
            assert environment["BOOKSHELF_ENV"] == "prod", item.name
            if "BOOKSHELF_ADMIN_TOKEN" in service_variables(item):  # the saga worker has no staff token
                assert environment["BOOKSHELF_ADMIN_TOKEN"] == "real-bookshelf_admin_token"
        for key, value in environment.items():
            assert "dev-" not in str(value), f"{item.name}: {key} keeps a dev value in prod"
    assert prod["services"]["kafka-ui"]["profiles"] == ["debug"]


def test_sasl_ssl_override_requires_the_kafka_password() -> None:
    with pytest.raises(MissingVariable, match="KAFKA_SASL_PASSWORD"):
        interpolate(variants()["sasl-ssl"], {})
    merged = interpolate(variants()["sasl-ssl"], {"KAFKA_SASL_PASSWORD": "s3cret"})
    for item in DEPLOYABLES:
        env = merged["services"][item.name]["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SSL_CAFILE"] == "/etc/bookshelf/kafka/ca.crt"
        assert "kafka-secrets:/etc/bookshelf/kafka:ro" in merged["services"][item.name]["volumes"]
    assert "kafka-secrets" in merged["services"]["kafka"]["depends_on"]


def test_no_environment_value_is_an_empty_string() -> None:
    """KafkaSettings treats "" as a value (aiokafka would load_cert_chain("")): leave a variable out
    (a key without a value) instead of passing it empty."""
    for variant in VARIANTS:
        for name, service in services(variant).items():
            for key, value in (service.get("environment") or {}).items():
                assert value != "", f"{variant}: {name}.{key} is an empty string"


def test_the_observability_profile_sends_traces_through_the_collector_to_jaeger() -> None:
    """Services export OTLP to the collector, which forwards to Jaeger; Grafana can read Jaeger."""
    base = services(VARIANTS[0])
    for name in ("otel-collector", "jaeger"):
        assert base[name]["profiles"] == ["observability"], f"{name} must only run with the profile"
    for item in DEPLOYABLES:
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in (base[item.name].get("environment") or {}), item.name
    config = load_yaml(ROOT / "deploy" / "otel" / "collector.yaml")
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    (exporter,) = pipeline["exporters"]
    assert config["exporters"][exporter]["endpoint"] == "jaeger:4317"
    assert "4318" in base["otel-collector"]["expose"]
    assert "4317" in base["jaeger"]["expose"]
    mounted = " ".join(base["otel-collector"]["volumes"])
    assert "deploy/otel/collector.yaml" in mounted
    datasources = ROOT / "deploy" / "compose" / "grafana" / "provisioning" / "datasources" / "jaeger.yml"
    (jaeger,) = load_yaml(datasources)["datasources"]
    assert (jaeger["type"], jaeger["url"]) == ("jaeger", "http://jaeger:16686")
