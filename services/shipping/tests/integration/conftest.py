"""The shipping service wired against real PostgreSQL and a Kafka-protocol broker, shared by the session.

One database, relay and ``shipping.commands`` consumer (with a test-unique group id, so it never
shares partitions with another wired shipping) for every shipping integration test; tests use unique
order ids instead of cleaning up. Two taps read ``shipping.shipments`` and ``shipping.commands.dlq``
from the beginning in the background, so tests only poll what arrived.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from bookshelf_contracts import SHIPPING_COMMANDS, SHIPPING_SHIPMENTS, TOPICS, Envelope, Message, dlq
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import unique_name
from bookshelf_infra.testing.service import ServiceHarness, migrated_database, running_service
from bookshelf_infra.testing.tap import Tap, envelope_of, event, header
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_servicekit.runtime import Components
from bookshelf_shipping.bootstrap import build
from bookshelf_shipping.config import ShippingSettings
from bookshelf_shipping.migrations import upgrade

__all__ = ["STAFF", "ShippingIT", "envelope_of", "event", "header"]

ADMIN_TOKEN = "shipping-it-admin-token"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class ShippingIT(ServiceHarness[Components]):
    """The running shipping service: HTTP client, command producer, taps on its output topics."""

    shipments: Tap
    dead_letters: Tap

    async def send(self, command: Message, *, message_id: UUID | None = None) -> Envelope:
        """Produce a command to shipping.commands as the saga would (key: order_id)."""
        env = Envelope.wrap(
            command, producer="fulfillment", correlation_id=str(uuid4()), message_id=message_id or uuid4()
        )
        key = str(getattr(command, "order_id"))  # noqa: B009 - every shipping command has one
        await self.send_envelope(SHIPPING_COMMANDS, env, key=key)
        return env


@pytest.fixture(scope="session")
async def shipping_it(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[ShippingIT]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka, [s for s in TOPICS if s.name in (SHIPPING_COMMANDS, SHIPPING_SHIPMENTS)])
    async with migrated_database(postgres_server, "shipping_it", upgrade) as url:
        settings = ShippingSettings(
            env="dev",
            database_url=url,
            admin_token=ADMIN_TOKEN,
            commands_group=unique_name("shipping.commands.it"),
        )
        async with (
            Tap(kafka, SHIPPING_SHIPMENTS) as shipments,
            Tap(kafka, dlq(SHIPPING_COMMANDS)) as dead_letters,
            running_service(
                build(settings, kafka),
                ShippingIT,
                base_url="http://shipping",
                shipments=shipments,
                dead_letters=dead_letters,
            ) as shipping,
        ):
            yield shipping
