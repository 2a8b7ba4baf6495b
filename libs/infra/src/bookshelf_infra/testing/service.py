"""One service under test: ``running_service`` runs what a service's bootstrap built (its relay and
consumers as tasks), with an HTTP client on its ASGI app and a producer for its input topics, and stops
all of it afterwards. ``migrated_database`` gives it a fresh, migrated database.

A service's test harness subclasses ``ServiceHarness`` with its own helpers and fields::

    @dataclass
    class ShippingIT(ServiceHarness[Components]):
        shipments: Tap

    async with Tap(kafka, SHIPPING_SHIPMENTS) as shipments, running_service(
        build(settings, kafka), ShippingIT, base_url="http://shipping", shipments=shipments
    ) as shipping:
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import httpx
from aiokafka import AIOKafkaProducer

from . import eventually, unique_name
from .tap import KafkaClient

if TYPE_CHECKING:
    from ..pgadmin import PostgresAdmin

__all__ = [
    "Runner",
    "ServiceHarness",
    "ServiceParts",
    "in_transactions",
    "migrated_database",
    "running_service",
]


class Runner(Protocol):
    """A relay or consumer: runs until stopped."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class ServiceParts(Protocol):
    """What a service's bootstrap builds (``bookshelf_servicekit.runtime.Components``)."""

    @property
    def app(self) -> Any: ...

    @property
    def engine(self) -> Any: ...

    @property
    def kafka(self) -> Any: ...

    @property
    def relay(self) -> Runner | None: ...

    @property
    def consumers(self) -> Sequence[Runner]: ...


P = TypeVar("P", bound=ServiceParts)
H = TypeVar("H", bound="ServiceHarness[Any]")
R = TypeVar("R")


@dataclass
class ServiceHarness(Generic[P]):
    """A running service: its parts, an HTTP client on its app, a producer (acks=all) for its inputs."""

    components: P
    http: httpx.AsyncClient
    producer: AIOKafkaProducer

    @property
    def engine(self) -> Any:
        """The service's SQLAlchemy engine."""
        return self.components.engine

    @property
    def kafka(self) -> KafkaClient:
        """The broker settings the service runs with."""
        kafka: KafkaClient = self.components.kafka
        return kafka

    async def send_raw(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """Produce one record as it is (a malformed one, or an envelope's bytes)."""
        encoded = key.encode() if isinstance(key, str) else key
        await self.producer.send_and_wait(topic, value=value, key=encoded, headers=list(headers))

    async def send_envelope(self, topic: str, envelope: Any, *, key: str) -> None:
        """Produce an envelope (``bookshelf_contracts.Envelope``) with its Kafka headers."""
        await self.send_raw(topic, envelope.to_json(), key=key, headers=envelope.kafka_headers())


@contextlib.asynccontextmanager
async def running_service(
    components: Any,
    harness: type[H],
    *,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    wait_for_consumers: bool = False,
    **fields: Any,
) -> AsyncIterator[H]:
    """Run ``components``' relay and consumers as tasks and yield ``harness`` over them (extra dataclass
    ``fields`` passed through); stop the runners, the client, the producer and the engine afterwards.

    ``wait_for_consumers`` polls until every consumer reports ``is_running`` (joined its group).
    """
    runners: list[Runner] = [r for r in (components.relay, *components.consumers) if r is not None]
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    producer = AIOKafkaProducer(**components.kafka.aiokafka_kwargs(), acks="all")
    await producer.start()
    transport = httpx.ASGITransport(app=components.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers) as http:
            if wait_for_consumers:
                await eventually(
                    lambda: all(getattr(c, "is_running", False) for c in components.consumers),
                    timeout=60,
                    message=f"the consumers of {base_url} never started",
                )
            yield harness(components=components, http=http, producer=producer, **fields)
    finally:
        await producer.stop()
        await _stop(runners, tasks)
        await components.engine.dispose()


async def _stop(runners: Sequence[Runner], tasks: Sequence[asyncio.Task[None]]) -> None:
    for runner in runners:
        runner.stop()
    if tasks:
        await asyncio.wait(tasks, timeout=20)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


@contextlib.asynccontextmanager
async def migrated_database(
    postgres: PostgresAdmin, prefix: str, upgrade: Callable[[str], Awaitable[None] | None]
) -> AsyncIterator[str]:
    """A new database named ``<prefix>_<unique>``, migrated by ``upgrade(url)`` (sync ones run in a
    thread); yields its SQLAlchemy URL and drops it afterwards."""
    name = unique_name(prefix)
    await postgres.create_database_async(name)
    url = postgres.sqlalchemy_url(name)
    try:
        if inspect.iscoroutinefunction(upgrade):
            await upgrade(url)
        else:
            await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await postgres.drop_database_async(name)


def in_transactions(
    session_factory: Callable[[], Any], build: Callable[[Any], R]
) -> Callable[[], contextlib.AbstractAsyncContextManager[R]]:
    """``store()`` of a repository contract test on a database: each call opens a transaction of
    ``session_factory`` (an ``async_sessionmaker``) and yields ``build(session)`` (the repositories);
    the transaction commits when the block ends without an error, else rolls back."""

    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[R]:
        async with session_factory() as session, session.begin():
            yield build(session)

    return transaction
