"""The catalog wired against real PostgreSQL and a Kafka-protocol broker, shared by the session.

One database, one relay and one supplier-feed consumer for all catalog integration tests: the
consumer group and topics have fixed names, so two wired catalogs would split the partitions
between them. Tests use unique ISBNs and ids instead of cleaning up.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from bookshelf_catalog.bootstrap import bootstrap
from bookshelf_catalog.config import CatalogSettings
from bookshelf_catalog.migrations import upgrade_async
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing.service import ServiceHarness, migrated_database, running_service
from bookshelf_infra.testing.tap import Tap, data_has, envelope_of
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_servicekit.runtime import Components

ADMIN_TOKEN = "integration-admin-token"
SUPPLIER_SECRET = "integration-supplier-secret"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

__all__ = [
    "STAFF",
    "SUPPLIER_SECRET",
    "Catalog",
    "ReadTopic",
    "data_has",
    "envelope_of",
    "isbn13",
    "wired_catalog",
]


def isbn13() -> str:
    """A fresh valid ISBN-13."""
    digits = [9, 7, 8] + [int(d) for d in str(uuid.uuid4().int)[:9]]
    check = (10 - sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def isbn10_of(isbn: str) -> str:
    """The ISBN-10 form (with hyphens) of a 978-prefixed ISBN-13."""
    core = isbn[3:12]
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(core)) % 11) % 11
    return f"{core[0]}-{core[1:4]}-{core[4:9]}-{'X' if check == 10 else check}"


@dataclass
class Catalog(ServiceHarness[Components]):
    """The running catalog: HTTP client on its app, its parts (engine, broker settings), a producer."""


ReadTopic = Callable[[str], Awaitable[Tap]]


@contextlib.asynccontextmanager
async def wired_catalog(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[Catalog]:
    """A catalog on its own new database: relay and supplier-feed consumer running, ASGI client."""
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka)
    async with migrated_database(postgres_server, "catalog_it", upgrade_async) as url:
        settings = CatalogSettings(
            env="dev", database_url=url, admin_token=ADMIN_TOKEN, supplier_webhook_secret=SUPPLIER_SECRET
        )
        components = bootstrap(settings, kafka=kafka, relay_options={"poll_interval_s": 0.2})
        assert components.relay is not None
        async with running_service(
            components, Catalog, base_url="http://catalog", wait_for_consumers=True
        ) as catalog:
            yield catalog


@pytest.fixture(scope="session")
async def catalog(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[Catalog]:
    async with wired_catalog(postgres_server, kafka_bootstrap) as wired:
        yield wired


@pytest.fixture
async def read_topic(catalog: Catalog) -> AsyncIterator[ReadTopic]:
    """``await read_topic(name)``: a tap on that topic from its beginning (stopped after the test)."""
    async with contextlib.AsyncExitStack() as taps:

        async def start(topic: str) -> Tap:
            return await taps.enter_async_context(Tap(catalog.kafka, topic))

        yield start
