"""Inventory integration fixtures: a migrated database per module, and the running service.

``inventory_running`` starts the real service (bootstrap with the test database and broker, relay and
consumers as asyncio tasks) once per module, with an HTTP client on the app and a feed that reads
inventory's output and dead-letter topics from the beginning.

Isolation on the shared broker: the service consumes module-unique input topics (same layout as the
real ones: ``.bulk`` lane and ``.dlq``) with module-unique groups, so it never handles another test's
commands (answering an order of another test's saga would break that test) nor replays their
history; it publishes to the real output topics, where every test filters by its own ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_COMMANDS,
    INVENTORY_RESERVATIONS,
    INVENTORY_STOCK,
    SUPPLIER_BOOK_SUPPLY,
    Envelope,
    Message,
    bulk,
    dlq,
    key_for,
    topic_for,
)
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import unique_name
from bookshelf_infra.testing.service import ServiceHarness, migrated_database, running_service
from bookshelf_infra.testing.tap import Record, Tap, headers_of
from bookshelf_inventory import migrations
from bookshelf_inventory.bootstrap import build
from bookshelf_inventory.config import InventorySettings
from bookshelf_inventory.entrypoints.consumers import InputTopics
from bookshelf_messaging import KafkaSettings, create_topic, ensure_topics
from bookshelf_servicekit.runtime import Components

OUTPUT_TOPICS = (INVENTORY_STOCK, INVENTORY_RESERVATIONS)


@pytest.fixture(scope="module")
async def inventory_db_url(postgres_server: PostgresAdmin) -> AsyncIterator[str]:
    """A database migrated by ``migrations.upgrade``, shared by one test module."""
    async with migrated_database(postgres_server, "inventory_it", migrations.upgrade) as url:
        yield url


@dataclass
class Feed:
    """Inventory's output and dead-letter topics as read by a tap: published events, their placement."""

    tap: Tap
    _parsed: list[tuple[Record, Envelope | None]] = field(default_factory=list)

    def _records(self) -> list[tuple[Record, Envelope | None]]:
        """Every record so far with its envelope (None on a dead-letter topic), parsed once each."""
        for record in self.tap.records[len(self._parsed) :]:
            envelope = None if record.topic.endswith(".dlq") else Envelope.from_json(record.value)
            self._parsed.append((record, envelope))
        return self._parsed

    def _published(self, type_name: str, fields: dict[str, Any]) -> list[tuple[Record, Envelope]]:
        return [
            (record, e)
            for record, e in self._records()
            if e is not None
            and e.type == type_name
            and all(str(e.data.get(k)) == str(v) for k, v in fields.items())
        ]

    def events(self, type_name: str, **fields: Any) -> list[dict[str, Any]]:
        """Data of published events of this type whose fields equal ``fields`` (compared as strings)."""
        return [e.data for _, e in self._published(type_name, fields)]

    def placements(self, type_name: str, **fields: Any) -> list[tuple[str, str | None]]:
        """(topic, key) of each published event of this type whose fields equal ``fields``."""
        return [
            (record.topic, record.key.decode() if record.key is not None else None)
            for record, _ in self._published(type_name, fields)
        ]

    def dead_letters(self, topic: str, message_id: UUID | str) -> list[dict[str, str]]:
        """Headers of dead letters on ``topic`` whose original message id is ``message_id``."""
        letters = (headers_of(record) for record in self.tap.records if record.topic == topic)
        return [headers for headers in letters if headers.get("message_id") == str(message_id)]


@dataclass
class RunningInventory(ServiceHarness[Components]):
    """The service under test: HTTP client, output feed, a producer for its (twin) input topics."""

    feed: Feed
    url: str
    topics: InputTopics

    def topic(self, real: str) -> str:
        """This module's stand-in for a real input topic (``catalog.books`` -> its unique twin)."""
        twins = {
            CATALOG_BOOKS: self.topics.catalog,
            INVENTORY_COMMANDS: self.topics.commands,
            SUPPLIER_BOOK_SUPPLY: self.topics.supplier,
        }
        return twins[real]

    async def send(
        self, message: Message, *, lane: str = "primary", envelope: Envelope | None = None
    ) -> Envelope:
        """Publish a message the way its producer service would (or re-send a given envelope)."""
        envelope = envelope or Envelope.wrap(message, producer="test", correlation_id=unique_name("corr"))
        topic = self.topic(topic_for(message))
        await self.send_envelope(topic if lane == "primary" else bulk(topic), envelope, key=key_for(message))
        return envelope

    def dead_letters(self, real_topic: str, message_id: UUID | str) -> list[dict[str, str]]:
        """Headers of dead letters of this module's twin of ``real_topic`` for ``message_id``."""
        return self.feed.dead_letters(dlq(self.topic(real_topic)), message_id)


async def _input_topics(kafka: KafkaSettings) -> InputTopics:
    """Unique twins of inventory's input topics, each with its ``.bulk`` lane and compacted ``.dlq``."""
    prefix = unique_name("inventory_it")
    topics = InputTopics(
        catalog=f"{prefix}.catalog", commands=f"{prefix}.commands", supplier=f"{prefix}.supplier"
    )
    for name in (topics.catalog, topics.commands, topics.supplier):
        await create_topic(kafka, name)
        await create_topic(kafka, bulk(name))
        await create_topic(kafka, dlq(name), compacted=True)
    return topics


def _settings(url: str) -> InventorySettings:
    suffix = unique_name("t")
    return InventorySettings(
        database_url=url,
        catalog_group=f"inventory.catalog-events.{suffix}",
        commands_group=f"inventory.commands.{suffix}",
        supplier_group=f"inventory.supplier-feed.{suffix}",
        supplier_max_retries=2,
        supplier_backoff_s=0.05,
    )


@pytest.fixture(scope="module")
async def inventory_running(kafka_bootstrap: str, inventory_db_url: str) -> AsyncIterator[RunningInventory]:
    """The inventory service running against the test database and broker for one module."""
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka)
    topics = await _input_topics(kafka)
    components = build(_settings(inventory_db_url), kafka, topics=topics)
    watched = (*OUTPUT_TOPICS, dlq(topics.catalog), dlq(topics.commands), dlq(topics.supplier))
    async with (
        Tap(kafka, *watched) as tap,
        running_service(
            components,
            RunningInventory,
            base_url="http://inventory",
            feed=Feed(tap),
            url=inventory_db_url,
            topics=topics,
        ) as inventory,
    ):
        yield inventory
