"""The compose Kafka broker starts in every documented combination: its environment as the apache/kafka
image turns it into broker properties (kafka_image_support), with the files the kafka-secrets job
writes. A Docker host confirms it with ``make up``; this catches settings the image ignores."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest

from tests.deploy.compose_support import compose_variants, interpolate, interpolated_variables
from tests.deploy.deploy_support import COMPOSE_COMBINATIONS, ROOT
from tests.deploy.kafka_image_support import configure, server_properties, start_problems

pytestmark = pytest.mark.unit

GENERATE = ROOT / "deploy" / "compose" / "kafka-secrets" / "generate.sh"


def secret_files() -> set[str]:
    """The files generate.sh leaves in the kafka-secrets volume (/etc/kafka/secrets)."""
    script = GENERATE.read_text()
    written = set(re.findall(r"(?:>|-keystore|-file|-outfile)\s+([\w.]+)", script))
    removed = {name for line in re.findall(r"^rm -f (.+)$", script, re.M) for name in line.split()}
    return written - removed


def merged(variant: str, **env: str) -> dict[str, Any]:
    """A combination with every required variable set (secrets to placeholders)."""
    variables = interpolated_variables(compose_variants()[variant])
    required = {name: "placeholder" for name, op, _ in variables if op in (":?", "?")}
    return interpolate(compose_variants()[variant], {**required, **env})


def broker(variant: str, **env: str) -> tuple[dict[str, str], dict[str, str]]:
    """(environment after the image's configure script, broker properties)."""
    environment = merged(variant, **env)["services"]["kafka"]["environment"]
    configured = configure(environment, secret_files())
    return configured, server_properties(configured)


@pytest.mark.parametrize("variant", list(COMPOSE_COMBINATIONS))
def test_the_broker_starts_in_every_documented_combination(variant: str) -> None:
    configured, properties = broker(variant)
    assert start_problems(properties, configured.get("KAFKA_OPTS", "")) == []
    if "sasl-ssl" in variant:
        assert properties["ssl.keystore.location"] == "/etc/kafka/secrets/kafka.keystore.p12"
        assert set(properties["listener.security.protocol.map"].split(",")) >= {
            "SASL_SSL:SASL_SSL",
            "EXTERNAL:SASL_SSL",
        }


def test_the_check_catches_listener_names_the_image_does_not_recognise() -> None:
    """The earlier overlay named its SASL_SSL listeners INTERNAL and EXTERNAL: no key store."""
    environment = merged("sasl-ssl")["services"]["kafka"]["environment"]
    renamed = {key: str(value).replace("SASL_SSL://", "INTERNAL://") for key, value in environment.items()}
    renamed["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] = (
        "INTERNAL:SASL_SSL,EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT"
    )
    renamed["KAFKA_INTER_BROKER_LISTENER_NAME"] = "INTERNAL"
    configured = configure(renamed, secret_files())
    problems = start_problems(server_properties(configured), configured["KAFKA_OPTS"])
    assert "listener INTERNAL (SASL_SSL): no ssl.keystore.location" in problems


def test_the_broker_and_its_health_check_use_files_the_secrets_job_writes() -> None:
    kafka = merged("sasl-ssl")["services"]["kafka"]
    files = secret_files()
    assert {"ca.crt", "kafka.keystore.p12", "keystore_creds", "key_creds", "broker_jaas.conf"} <= files
    jaas = re.findall(r"java\.security\.auth\.login\.config=(\S+)", kafka["environment"]["KAFKA_OPTS"])
    assert jaas == ["/etc/kafka/secrets/broker_jaas.conf"]
    command = shlex.split(kafka["healthcheck"]["test"][-1])
    config = command[command.index("--command-config") + 1]
    assert config.rsplit("/", 1) == ["/etc/kafka/secrets", "client.properties"]
    assert "client.properties" in files
    assert kafka["environment"]["KAFKA_SSL_TRUSTSTORE_LOCATION"] == "/etc/kafka/secrets/ca.crt"


@pytest.mark.parametrize("variant", ["base", "sasl-ssl"])
def test_kafka_advertises_the_host_clients_outside_compose_use(variant: str) -> None:
    """With BOOKSHELF_BIND=0.0.0.0 other machines connect: localhost would send them to themselves."""
    services = merged(variant, BOOKSHELF_BIND="0.0.0.0", BOOKSHELF_KAFKA_HOST="kafka.example.org")["services"]
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "EXTERNAL://kafka.example.org:9092" in advertised
    assert services["kafka"]["ports"] == ["0.0.0.0:9092:9092"]
    if variant == "sasl-ssl":  # the certificate must name that host too
        assert services["kafka-secrets"]["environment"]["BOOKSHELF_KAFKA_HOST"] == "kafka.example.org"
        assert 'san="dns:kafka,dns:localhost,dns:$host"' in GENERATE.read_text()
