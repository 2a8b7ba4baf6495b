"""Where the operator commands find the system: broker, service URLs, databases and the staff token.

The same variables as `bookshelf run` (LocalConfig): `KAFKA_BOOTSTRAP_SERVERS` or `BOOKSHELF_KAFKA_PORT`,
`<SERVICE>_DATABASE_URL` or `BOOKSHELF_PG_PORT`, `<SERVICE>_PORT`; `<SERVICE>_URL` (e.g.
`FULFILLMENT_URL=http://fulfillment:8006`) points at a service that is not on this machine.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from bookshelf_cli.local import LocalConfig
from bookshelf_cli.output import fail
from bookshelf_cli.services import SERVICES, ServiceSpec

if TYPE_CHECKING:
    from bookshelf_messaging.settings import KafkaSettings

DEV_ADMIN_TOKEN = "dev-admin-token"
START_HINT = "start the system with `bookshelf run` (or `make run`)"


def kafka_settings(config: LocalConfig | None = None) -> KafkaSettings:
    """Client settings from the environment (`KAFKA_*`), with the broker address of LocalConfig."""
    from bookshelf_cli.kafka_client import CliKafkaSettings

    config = config or LocalConfig()
    return CliKafkaSettings(bootstrap_servers=config.kafka_bootstrap)


def require_broker(kafka: KafkaSettings, timeout_s: float = 5.0) -> AdminClient:
    """An AdminClient on a broker that answers; otherwise exit 1 saying how to reach one."""
    admin = AdminClient(kafka.confluent_config())
    try:
        admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        fail(
            f"the Kafka broker at {kafka.bootstrap_servers} does not answer ({exc.args[0]})",
            f"{START_HINT}, or point the CLI at your broker with KAFKA_BOOTSTRAP_SERVERS "
            "(or BOOKSHELF_KAFKA_PORT for the local one)",
        )
    return admin


def spec(name: str) -> ServiceSpec:
    """The registry entry of a service by name."""
    return next(s for s in SERVICES if s.name == name)


def service_url(name: str) -> str:
    """Base URL of a service: `<PREFIX>_URL`, else 127.0.0.1 on its configured port."""
    service = spec(name)
    explicit = os.environ.get(f"{service.env_prefix}_URL")
    return explicit.rstrip("/") if explicit else f"http://127.0.0.1:{service.configured_port}"


def admin_token() -> str:
    """The staff bearer token: `BOOKSHELF_ADMIN_TOKEN`, the dev default otherwise."""
    return os.environ.get("BOOKSHELF_ADMIN_TOKEN") or DEV_ADMIN_TOKEN
