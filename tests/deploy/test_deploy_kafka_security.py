"""Kafka security settings as deployed (the SASL_SSL compose override, the Kubernetes ConfigMap, mTLS)
reach aiokafka and confluent-kafka the way docs/deploy.md says, through KafkaSettings."""

from __future__ import annotations

import os
import ssl
from typing import Any

import certifi
import pytest
from bookshelf_messaging.settings import KafkaSettings

from tests.deploy.compose_support import compose_variants, interpolate
from tests.deploy.deploy_support import K8S
from tests.deploy.kustomize_support import kustomize_build

pytestmark = pytest.mark.unit


def settings_from(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    """KafkaSettings as a process with exactly these KAFKA_* variables would build them."""
    for name in [n for n in os.environ if n.startswith("KAFKA_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("KAFKA_") and value is not None:
            monkeypatch.setenv(name, str(value))
    return KafkaSettings()


def test_compose_sasl_ssl_override_configures_both_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    merged = interpolate(compose_variants()["sasl-ssl"], {"KAFKA_SASL_PASSWORD": "s3cret"})
    env = merged["services"]["catalog"]["environment"]
    settings = settings_from(env, monkeypatch)

    assert settings.confluent_config() == {
        "bootstrap.servers": "kafka:19092",
        "security.protocol": "sasl_ssl",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "bookshelf",
        "sasl.password": "s3cret",
        "ssl.ca.location": "/etc/bookshelf/kafka/ca.crt",
    }
    # The CA file exists only in the container: check the aiokafka side with a real PEM bundle.
    monkeypatch.setenv("KAFKA_SSL_CAFILE", certifi.where())
    kwargs = KafkaSettings().aiokafka_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "PLAIN"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("bookshelf", "s3cret")
    context: ssl.SSLContext = kwargs["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_kubernetes_config_is_scram_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    config = next(
        d
        for d in kustomize_build(K8S / "base")
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "bookshelf-config"
    )
    settings = settings_from(
        {**config["data"], "KAFKA_SASL_PASSWORD": "from-the-kafkauser-secret"}, monkeypatch
    )
    confluent = settings.confluent_config()
    assert confluent["security.protocol"] == "sasl_ssl"
    assert confluent["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert confluent["ssl.ca.location"] == "/etc/bookshelf/kafka/ca.crt"
    monkeypatch.setenv("KAFKA_SSL_CAFILE", certifi.where())
    assert KafkaSettings().aiokafka_kwargs()["sasl_mechanism"] == "SCRAM-SHA-512"


def test_mtls_uses_the_client_certificate_and_no_sasl(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(
        {
            "KAFKA_SECURITY_PROTOCOL": "SSL",
            "KAFKA_SSL_CAFILE": "/etc/bookshelf/kafka/ca.crt",
            "KAFKA_SSL_CERTFILE": "/etc/bookshelf/kafka/user.crt",
            "KAFKA_SSL_KEYFILE": "/etc/bookshelf/kafka/user.key",
        },
        monkeypatch,
    )
    confluent = settings.confluent_config()
    assert confluent["security.protocol"] == "ssl"
    assert confluent["ssl.certificate.location"] == "/etc/bookshelf/kafka/user.crt"
    assert confluent["ssl.key.location"] == "/etc/bookshelf/kafka/user.key"
    assert not any(k.startswith("sasl.") for k in confluent)


def test_the_saga_worker_passes_kafka_security_to_faust() -> None:
    import faust
    from bookshelf_fulfillment.config import FulfillmentSettings
    from bookshelf_fulfillment.entrypoints.worker import build_app

    kafka = KafkaSettings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="u", sasl_password="p"
    )
    credentials = build_app(FulfillmentSettings(), kafka).conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("u", "p")
