"""Settings and their translation to faust (no broker)."""

from __future__ import annotations

from datetime import timedelta

import faust
import pytest
from bookshelf_fulfillment.adapters.kafka import broker_credentials, broker_urls
from bookshelf_fulfillment.config import FulfillmentSettings
from bookshelf_messaging import KafkaSettings


def test_defaults_match_api_md_and_domain_md(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FULFILLMENT_PORT", "FULFILLMENT_TIMEOUT_S", "FULFILLMENT_HOST", "FULFILLMENT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    settings = FulfillmentSettings()

    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5433/fulfillment"
    assert settings.port == 8006
    assert settings.host == "127.0.0.1"
    assert settings.timeout == timedelta(seconds=60)
    assert settings.canonical_host == "127.0.0.1"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FULFILLMENT_TIMEOUT_S", "3")
    monkeypatch.setenv("FULFILLMENT_ADVERTISED_HOST", "worker-2.internal")

    settings = FulfillmentSettings()

    assert settings.timeout == timedelta(seconds=3)
    assert settings.canonical_host == "worker-2.internal"


def test_bootstrap_servers_become_faust_broker_urls() -> None:
    kafka = KafkaSettings(bootstrap_servers="a:9092, b:9093")

    assert broker_urls(kafka) == ["kafka://a:9092", "kafka://b:9093"]


def test_plaintext_needs_no_credentials_and_sasl_maps_to_faust() -> None:
    assert broker_credentials(KafkaSettings(security_protocol="PLAINTEXT")) is None

    sasl = broker_credentials(
        KafkaSettings(
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="scram-sha-256",
            sasl_username="saga",
            sasl_password="secret",
        )
    )

    assert isinstance(sasl, faust.SASLCredentials)
    assert sasl.protocol.value == "SASL_PLAINTEXT"
    assert sasl.mechanism.value == "SCRAM-SHA-256"
    assert (sasl.username, sasl.password) == ("saga", "secret")


async def test_partitions_without_a_committed_offset_are_rewound_after_faust_seeks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiokafka import TopicPartition
    from bookshelf_fulfillment.adapters import kafka
    from bookshelf_fulfillment.adapters.progress import OffsetProgress
    from faust.transport.drivers import aiokafka as faust_aiokafka

    committed = {
        TopicPartition("ordering.orders", 0): 7,
        TopicPartition("ordering.orders", 1): None,
        TopicPartition("shipping.shipments", 2): 0,
        TopicPartition("some.other-topic", 1): None,
    }
    rewound: list[TopicPartition] = []

    async def base_seek(self: object) -> dict[TopicPartition, int | None]:
        return committed

    async def seek_to_beginning(self: object, *partitions: TopicPartition) -> None:
        rewound.extend(partitions)

    async def earliest_offsets(self: object, *partitions: TopicPartition) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, 0)

    monkeypatch.setattr(faust_aiokafka.AIOKafkaConsumerThread, "seek_to_committed", base_seek)
    monkeypatch.setattr(faust_aiokafka.AIOKafkaConsumerThread, "seek_to_beginning", seek_to_beginning)
    monkeypatch.setattr(faust_aiokafka.AIOKafkaConsumerThread, "earliest_offsets", earliest_offsets)
    progress = OffsetProgress()
    kafka.configure_consumer(
        fetch_max_wait_ms=20, rewind_topics=["ordering.orders", "shipping.shipments"], progress=progress
    )
    thread = object.__new__(kafka._ConsumerThread)

    assert await thread.seek_to_committed() == committed
    assert rewound == [TopicPartition("ordering.orders", 1), TopicPartition("shipping.shipments", 2)]
    # the offset progress knows where each input partition is read from next
    assert progress.done(("ordering.orders", 0)) == 7
    assert progress.committed(("ordering.orders", 0)) == 7
    assert progress.done(("ordering.orders", 1)) == 0
    assert progress.committed(("ordering.orders", 1)) is None
    assert progress.done(("some.other-topic", 1)) is None
