"""The saga against real PostgreSQL (and, for the worker process tests, a broker of the module's own).

``SagaDb`` is a migrated fulfillment database with the step machinery wired to it (no Kafka): the
shared consumer policy, the saga's handler, a dead-letter writer that records what it gets. Worker
tests start ``python -m bookshelf_fulfillment`` processes against ``own_kafka_bootstrap`` (the saga
reads fixed topic names, so it gets a broker nobody else writes to) and feed them envelopes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import bookshelf_contracts as c
import httpx
import pytest
from bookshelf_fulfillment.adapters import repository
from bookshelf_fulfillment.adapters.dead_letters import ConsumedRecord
from bookshelf_fulfillment.entrypoints.worker import saga_message_types
from bookshelf_fulfillment.migrations import upgrade
from bookshelf_fulfillment.service_layer.steps import SagaSteps
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import TestDatabase, eventually, free_port, unique_name
from bookshelf_messaging import Outbox, RetryPolicy, create_engine, create_session_factory
from bookshelf_messaging._processing import PartitionProcessor
from bookshelf_messaging.dlq import Failure

GROUP = "fulfillment.saga"


# --- messages ------------------------------------------------------------------------------------


def placed(order_id: UUID, country: str = "US") -> c.OrderPlaced:
    price = c.Money(amount=Decimal("9.99"), currency=c.Currency.USD)
    line = c.OrderLineData(book_id=uuid4(), title="Dune", quantity=2, unit_price=price)
    address = c.Address(street="1 Main St", city="Springfield", zip_code="12345", country=country)
    return c.OrderPlaced(
        order_id=order_id,
        customer=c.Customer(name="Ada", email="ada@example.com"),
        shipping_address=address,
        lines=[line],
        total=c.Money(amount=Decimal("19.98"), currency=c.Currency.USD),
        version=1,
    )


def reserved(order_id: UUID) -> c.StockReserved:
    return c.StockReserved(order_id=order_id, lines=[c.StockLine(book_id=uuid4(), quantity=2)])


def created(order_id: UUID) -> c.ShipmentCreated:
    return c.ShipmentCreated(
        shipment_id=uuid4(), order_id=order_id, tracking_number="TRK-AB12CD34EF", version=1
    )


def envelope(message: c.Message, correlation_id: str = "corr-it") -> c.Envelope:
    return c.Envelope.wrap(message, producer="it", correlation_id=correlation_id)


# --- the step machinery on a real database ---------------------------------------------------------


@dataclass
class SagaDb:
    """A migrated fulfillment database, the saga's handler and the shared policy around it."""

    db: TestDatabase
    letters: list[tuple[ConsumedRecord, Failure]] = field(default_factory=list)
    fail_letters: bool = False
    offset: int = 0

    def __post_init__(self) -> None:
        self.engine = create_engine(self.db.url, pool_size=4)
        self.sessions = create_session_factory(self.engine)
        self.steps = SagaSteps(Outbox(service="fulfillment"), store=repository, timeout=timedelta(seconds=60))
        handlers = dict.fromkeys(saga_message_types(), self.steps.on_message)
        self.processor = PartitionProcessor(
            GROUP, handlers, self.sessions, self.dead_letter, RetryPolicy(3, 0.01, 0.05)
        )

    async def dead_letter(self, record: Any, failure: Failure) -> str:
        if self.fail_letters:
            from bookshelf_messaging import InfrastructureError

            raise InfrastructureError("writing dead letter failed: broker gone")
        self.letters.append((record, failure))
        return "entry"

    def record(self, value: bytes | None, topic: str = "ordering.orders") -> ConsumedRecord:
        self.offset += 1
        return ConsumedRecord(topic, 0, self.offset, b"key", value, [])

    async def feed(self, *envelopes: c.Envelope | bytes | None) -> None:
        """One batch, as the agent hands it over."""
        records = [self.record(e.to_json() if isinstance(e, c.Envelope) else e) for e in envelopes]
        await self.processor.process(records)  # type: ignore[arg-type]

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.db.dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()


@pytest.fixture
async def saga_db(database: TestDatabase) -> Any:
    import asyncio

    await asyncio.to_thread(upgrade, database.url)
    saga = SagaDb(database)
    yield saga
    await saga.engine.dispose()


# --- worker processes ------------------------------------------------------------------------------


class WorkerProcess:
    """One ``python -m bookshelf_fulfillment`` with its own port and log."""

    def __init__(self, env: dict[str, str], home: Path, name: str) -> None:
        self.port = free_port()
        self.env = env | {"FULFILLMENT_PORT": str(self.port)}
        self.log = home / f"{name}.log"
        self.home = home
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "bookshelf_fulfillment"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,  # faust writes its <app>-data folder here
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)

    async def wait_ready(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109 - a polling deadline
        async def ready() -> bool:
            assert self.popen is not None
            assert self.popen.poll() is None, self.tail()
            async with httpx.AsyncClient(timeout=5) as client:
                return (await client.get(f"{self.url}/readyz")).status_code == 200

        await eventually(ready, timeout=timeout, interval=0.2, message=f"worker not ready: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"


@dataclass
class SagaSystem:
    """Workers of one consumer group and database on the module's broker."""

    bootstrap: str
    postgres: PostgresAdmin
    home: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.database = unique_name("fulfillment_it")
        self.postgres.create_database(self.database)
        self.url = self.postgres.sqlalchemy_url(self.database)
        self.dsn = self.postgres.dsn(self.database)
        self.group = unique_name("fulfillment.saga_it")

    def worker(self, **env: str) -> WorkerProcess:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("FULFILLMENT_", "KAFKA_"))}
        base |= {
            "BOOKSHELF_ENV": "dev",
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "FULFILLMENT_DATABASE_URL": self.url,
            "FULFILLMENT_APP_ID": self.group,
            "FULFILLMENT_DEADLINE_CHECK_INTERVAL_S": "0.2",
            **env,
        }
        worker = WorkerProcess(base, self.home, f"worker-{len(self.workers)}")
        self.workers.append(worker)
        return worker

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.postgres.drop_database(self.database)


@pytest.fixture
def saga_system(
    own_kafka_bootstrap: str, postgres_server: PostgresAdmin, tmp_path: Path
) -> Iterator[SagaSystem]:
    system = SagaSystem(own_kafka_bootstrap, postgres_server, tmp_path)
    try:
        yield system
    finally:
        system.stop()


async def publish(bootstrap: str, envelopes: list[c.Envelope]) -> None:
    """Produce envelopes to their topics, keyed by order id, in order (acks=all)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for item in envelopes:
            message = c.parse_message(item)
            await producer.send_and_wait(
                c.topic_for(message),
                item.to_json(),
                key=c.key_for(message).encode(),
                headers=item.kafka_headers(),
            )
    finally:
        await producer.stop()
