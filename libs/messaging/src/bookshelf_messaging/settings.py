"""Kafka client settings shared by every service (environment prefix ``KAFKA_``).

Apache Kafka answers a waiting fetch as soon as a record arrives, but aiokafka keeps one fetch in
flight per broker: a partition whose buffered records were just consumed waits for that fetch to end
before it is asked for again, so the fetch wait bounds the delay a record can take at a hop. Measured
on the whole system (docs/benchmarks.md): p99 POST -> fulfilled at 10 orders/s was 1.1 s with 500 ms
and 0.3 s with 100 ms; 10 idle consumers cost the broker 6.5 % of a core at 500 ms, 21.5 % at 50 ms.
100 ms is the default. The 6 s session timeout lets a group notice a dead member in seconds.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Broker address, consumer timing and client security, mapped to confluent-kafka and aiokafka."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    fetch_max_wait_ms: int = 100
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    max_poll_records: int = 500
    # Replicas of each topic the services create; None: min(3, brokers in the cluster).
    topic_replication_factor: int | None = None
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @property
    def uses_ssl(self) -> bool:
        """True for ``SSL`` and ``SASL_SSL``."""
        return self.security_protocol.upper() in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        """True for ``SASL_PLAINTEXT`` and ``SASL_SSL``."""
        return self.security_protocol.upper().startswith("SASL_")

    def confluent_config(self) -> dict[str, Any]:
        """librdkafka properties: bootstrap servers plus the security settings that are set."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.uses_sasl:
            config["sasl.mechanisms"] = self.sasl_mechanism or "PLAIN"
            if self.sasl_username is not None:
                config["sasl.username"] = self.sasl_username
            if self.sasl_password is not None:
                config["sasl.password"] = self.sasl_password.get_secret_value()
        if self.uses_ssl:
            for key, value in (
                ("ssl.ca.location", self.ssl_cafile),
                ("ssl.certificate.location", self.ssl_certfile),
                ("ssl.key.location", self.ssl_keyfile),
            ):
                if value:
                    config[key] = value
        return config

    def confluent_producer_config(self) -> dict[str, Any]:
        """``confluent_config()`` plus the Java client's key hashing (murmur2).

        librdkafka defaults to CRC32 while aiokafka, faust and the Java client use murmur2: without this
        the same key would land in different partitions depending on which client produced it, which
        breaks per-key order, co-partitioning and DLQ tombstones.
        """
        return {**self.confluent_config(), "partitioner": "murmur2_random"}

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by aiokafka consumers, producers and admin clients."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol.upper(),
        }
        if self.uses_sasl:
            kwargs["sasl_mechanism"] = (self.sasl_mechanism or "PLAIN").upper()
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password is not None else None
            )
        if self.uses_ssl:
            # Imported lazily: building an SSL context reads the files, which PLAINTEXT setups lack.
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
        return kwargs

    def consumer_kwargs(self) -> dict[str, Any]:
        """aiokafka consumer timing from these settings (fetch wait, session, heartbeat, poll size)."""
        return {
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "max_poll_records": self.max_poll_records,
        }
