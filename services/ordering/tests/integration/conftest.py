"""One running ordering service (API, relay, both consumers) shared by the integration tests.

Real PostgreSQL and broker from the bookshelf fixtures; a fresh database; real topic names with
test-unique consumer groups. A collector reads ``ordering.orders`` and ``ordering.commands.dlq`` by
manual assignment (no group join to wait for) so tests can look for their own order ids.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from bookshelf_contracts import (
    ORDERING_COMMANDS,
    ORDERING_ORDERS,
    Currency,
    Envelope,
    Message,
    Money,
    dlq,
)
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import unique_name
from bookshelf_infra.testing.service import ServiceHarness, migrated_database, running_service
from bookshelf_infra.testing.tap import Tap, headers_of
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_ordering import migrations
from bookshelf_ordering.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_ordering.bootstrap import bootstrap
from bookshelf_ordering.config import OrderingSettings
from bookshelf_servicekit.runtime import Components


@dataclass
class Record:
    """A consumed record: topic, key, headers and the parsed JSON value."""

    topic: str
    key: str | None
    headers: dict[str, str]
    value: dict[str, Any]


STAFF = {"Authorization": "Bearer dev-admin-token"}


@dataclass
class OrderingHarness(ServiceHarness[Components]):
    """The running service plus helpers to drive and observe it. ``http`` sends the staff token (reads
    and cancels any order); ``anonymous`` sends no credentials (a customer sends the order's token)."""

    anonymous: httpx.AsyncClient
    output: Tap  # ordering.orders and ordering.commands.dlq from their beginning

    @property
    def records(self) -> list[Record]:
        """Every record of the tapped topics so far, parsed."""
        return [_record(raw) for raw in self.output.records]

    async def seed_book(self, title: str = "Dune", amount: str = "12.99", currency: str = "USD") -> uuid.UUID:
        """Put a book straight into the replica (tests of the replica consumer use Kafka instead)."""
        book_id = uuid.uuid4()
        price = Money(amount=Decimal(amount), currency=Currency(currency))
        async with self.session() as session, session.begin():
            await SqlUnitOfWork(session, self.outbox, owns_transaction=False).books.apply_book(
                book_id, title, price, 1
            )
        return book_id

    def session(self) -> Any:
        return self.components.app.state.ordering.session_factory()

    @property
    def outbox(self) -> Any:
        return self.components.app.state.ordering.outbox

    async def send(
        self, topic: str, message: Message, *, key: str, correlation_id: str | None = None
    ) -> Envelope:
        """Produce a contract message in its envelope, as another service would."""
        envelope = Envelope.wrap(message, producer="test", correlation_id=correlation_id or str(uuid.uuid4()))
        await self.send_envelope(topic, envelope, key=key)
        return envelope

    def events(self, order_id: Any, type_: str | None = None) -> list[Record]:
        """Records on ordering.orders keyed by this order (optionally of one type), in arrival order."""
        return [
            r
            for r in self.records
            if r.topic == ORDERING_ORDERS and r.key == str(order_id) and type_ in (None, r.value.get("type"))
        ]

    def dead_letters(self, message_id: Any) -> list[Record]:
        """Dead letters of ordering.commands for the record with this message id."""
        return [
            r
            for r in self.records
            if r.topic == dlq(ORDERING_COMMANDS) and r.headers.get("message_id") == str(message_id)
        ]

    async def order(self, order_id: Any) -> dict[str, Any]:
        response = await self.http.get(f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _record(raw: Any) -> Record:
    try:
        value = orjson.loads(raw.value) if raw.value else {}
    except orjson.JSONDecodeError:
        value = {"raw": raw.value.decode(errors="replace")}
    return Record(raw.topic, raw.key.decode() if raw.key else None, headers_of(raw), value)


@pytest.fixture(scope="session")
async def ordering(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[OrderingHarness]:
    """The ordering service (API, relay, both consumers) on a fresh database and the test broker."""
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka)
    async with migrated_database(postgres_server, "ordering_it", migrations.upgrade) as url:
        settings = OrderingSettings(
            database_url=url,
            commands_group=unique_name("ordering.commands"),
            catalog_group=unique_name("ordering.catalog-replica"),
        )
        components = bootstrap(settings, kafka)
        transport = httpx.ASGITransport(app=components.app)
        async with (
            Tap(kafka, ORDERING_ORDERS, dlq(ORDERING_COMMANDS)) as output,
            httpx.AsyncClient(transport=transport, base_url="http://ordering") as anonymous,
            running_service(
                components,
                OrderingHarness,
                base_url="http://ordering",
                headers=STAFF,
                wait_for_consumers=True,
                anonymous=anonymous,
                output=output,
            ) as harness,
        ):
            yield harness
