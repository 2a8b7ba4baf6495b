"""Kafka settings mapping, correlation context, DSN conversion (no I/O)."""

from __future__ import annotations

import asyncio

import pytest
from bookshelf_messaging import context
from bookshelf_messaging.db import to_asyncpg_dsn, to_sqlalchemy_url
from bookshelf_messaging.settings import KafkaSettings


def test_defaults_suit_the_embedded_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = KafkaSettings()
    assert settings.confluent_config() == {
        "bootstrap.servers": "127.0.0.1:9092",
        "security.protocol": "plaintext",
    }
    assert settings.aiokafka_kwargs() == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert settings.consumer_kwargs()["session_timeout_ms"] == 6000
    assert settings.consumer_kwargs()["fetch_max_wait_ms"] == 100


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9093,k2:9093")
    monkeypatch.setenv("KAFKA_FETCH_MAX_WAIT_MS", "20")
    settings = KafkaSettings()
    assert settings.bootstrap_servers == "k1:9093,k2:9093"
    assert settings.fetch_max_wait_ms == 20


def test_sasl_ssl_pass_through() -> None:
    settings = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="svc",
        sasl_password="secret",  # type: ignore[arg-type]
        ssl_cafile="/etc/ca.pem",
    )
    config = settings.confluent_config()
    assert config["security.protocol"] == "sasl_ssl"
    assert config["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert (config["sasl.username"], config["sasl.password"]) == ("svc", "secret")
    assert config["ssl.ca.location"] == "/etc/ca.pem"
    assert "ssl.certificate.location" not in config
    assert "secret" not in repr(settings)


def test_sasl_plaintext_for_aiokafka() -> None:
    settings = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="plain",
        sasl_username="u",
        sasl_password="p",  # type: ignore[arg-type]
    )
    kwargs = settings.aiokafka_kwargs()
    assert kwargs["sasl_mechanism"] == "PLAIN"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("u", "p")
    assert "ssl_context" not in kwargs


def test_bind_sets_and_restores() -> None:
    assert context.current().correlation_id is None
    with context.bind("corr-1", "cause-1"):
        assert context.current() == context.MessageContext("corr-1", "cause-1")
        with context.bind("corr-2"):
            assert context.causation_id() is None
        assert context.correlation_id() == "corr-1"
    assert context.current() == context.MessageContext(None, None)


async def test_tasks_do_not_see_each_others_ids() -> None:
    async def worker(name: str) -> str | None:
        with context.bind(name, None):
            await asyncio.sleep(0)
            return context.correlation_id()

    assert await asyncio.gather(worker("a"), worker("b")) == ["a", "b"]


def test_new_correlation_ids_are_unique() -> None:
    assert context.new_correlation_id() != context.new_correlation_id()


def test_dsn_conversion_round_trip() -> None:
    url = "postgresql+asyncpg://postgres:pw@127.0.0.1:5433/catalog"
    assert to_asyncpg_dsn(url) == "postgresql://postgres:pw@127.0.0.1:5433/catalog"
    assert to_sqlalchemy_url("postgresql://postgres:pw@127.0.0.1:5433/catalog") == url
    socket = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert to_asyncpg_dsn(socket).endswith("?host=/tmp/pg")
