"""Kafka client settings for the CLI (imported lazily: bookshelf_messaging takes a second to import)."""

from __future__ import annotations

from typing import Any

from bookshelf_messaging.settings import KafkaSettings


class CliKafkaSettings(KafkaSettings):
    """KafkaSettings with librdkafka's own log lines silenced: the CLI reports failures itself."""

    def confluent_config(self) -> dict[str, Any]:
        return {**super().confluent_config(), "log_level": 0, "log.connection.close": False}
