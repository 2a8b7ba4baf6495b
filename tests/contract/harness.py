"""Each FastAPI service built in-process, the way its bootstrap wires it (no relay, no consumers).

``SERVICES`` names how to migrate and build every service; ``running`` serves one on a fresh, migrated
database through ``httpx.ASGITransport`` on an event loop of its own thread, so synchronous code (a
Hypothesis test) can drive it with ``service.call(...)``. The fulfillment worker is not here: it is a
faust (aiohttp) app without an OpenAPI document and without write endpoints.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from bookshelf_catalog import migrations as catalog_migrations
from bookshelf_catalog.bootstrap import bootstrap as build_catalog
from bookshelf_catalog.config import CatalogSettings
from bookshelf_inventory import migrations as inventory_migrations
from bookshelf_inventory.bootstrap import build as build_inventory
from bookshelf_inventory.config import InventorySettings
from bookshelf_messaging import KafkaSettings
from bookshelf_observatory import migrations as observatory_migrations
from bookshelf_observatory.bootstrap import build as build_observatory
from bookshelf_observatory.config import ObservatorySettings
from bookshelf_ordering import migrations as ordering_migrations
from bookshelf_ordering.bootstrap import bootstrap as build_ordering
from bookshelf_ordering.config import OrderingSettings
from bookshelf_servicekit.runtime import Components
from bookshelf_shipping import migrations as shipping_migrations
from bookshelf_shipping.bootstrap import build as build_shipping
from bookshelf_shipping.config import ShippingSettings
from bookshelf_storefront import migrations as storefront_migrations
from bookshelf_storefront.bootstrap import build as build_storefront
from bookshelf_storefront.config import StorefrontSettings

T = TypeVar("T")

ADMIN_TOKEN = "contract-admin-token"
SUPPLIER_SECRET = "contract-supplier-secret"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Nothing listens here: the address of a broker (or a probed service) that must never be reached.
UNREACHABLE = "127.0.0.1:9"
UNUSED_DATABASE = "postgresql+asyncpg://nobody@127.0.0.1:9/none"


@dataclass(frozen=True)
class ServiceSpec:
    """How to migrate and build one service for in-process tests."""

    name: str
    upgrade: Callable[[str], None]
    build: Callable[[str, KafkaSettings], Components]
    needs_kafka: bool = False  # its API itself talks to the broker


def _catalog(url: str, kafka: KafkaSettings) -> Components:
    settings = CatalogSettings(
        env="dev", database_url=url, admin_token=ADMIN_TOKEN, supplier_webhook_secret=SUPPLIER_SECRET
    )
    return build_catalog(settings, kafka=kafka)


def _ordering(url: str, kafka: KafkaSettings) -> Components:
    return build_ordering(OrderingSettings(env="dev", database_url=url, admin_token=ADMIN_TOKEN), kafka)


def _inventory(url: str, kafka: KafkaSettings) -> Components:
    return build_inventory(InventorySettings(env="dev", database_url=url, admin_token=ADMIN_TOKEN), kafka)


def _shipping(url: str, kafka: KafkaSettings) -> Components:
    return build_shipping(ShippingSettings(env="dev", database_url=url, admin_token=ADMIN_TOKEN), kafka)


def _storefront(url: str, kafka: KafkaSettings) -> Components:
    settings = StorefrontSettings(env="dev", database_url=url, admin_token=ADMIN_TOKEN)
    return build_storefront(settings, kafka)


def _observatory(url: str, kafka: KafkaSettings) -> Components:
    settings = ObservatorySettings(
        env="dev",
        database_url=url,
        admin_token=ADMIN_TOKEN,
        services=f"fulfillment=http://{UNREACHABLE}",  # probes fail fast instead of finding real services
        probe_timeout_s=0.5,
    )
    return build_observatory(settings, kafka, topics=[])


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("catalog", catalog_migrations.upgrade, _catalog),
        ServiceSpec("ordering", ordering_migrations.upgrade, _ordering),
        ServiceSpec("inventory", inventory_migrations.upgrade, _inventory),
        ServiceSpec("shipping", shipping_migrations.upgrade, _shipping),
        ServiceSpec("storefront-query", storefront_migrations.upgrade, _storefront),
        ServiceSpec("observatory", observatory_migrations.upgrade, _observatory, needs_kafka=True),
    )
}


class LoopThread:
    """An event loop running in a daemon thread; ``run`` waits for a coroutine from any thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="contract-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """The result of ``coro`` run on the loop (raises what it raises)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class RunningService:
    """A service app served in-process: ``call`` sends one request and waits for the answer."""

    name: str
    components: Components
    client: httpx.AsyncClient
    loop: LoopThread

    @property
    def app(self) -> Any:
        return self.components.app

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP request to the app (``kwargs`` as ``httpx.AsyncClient.request`` takes them)."""
        return self.loop.run(self.client.request(method, path, **kwargs))


def build_app(name: str, database_url: str = UNUSED_DATABASE, kafka: str = UNREACHABLE) -> Components:
    """A service's components without migrating or connecting anything (engines connect lazily)."""
    return SERVICES[name].build(database_url, KafkaSettings(bootstrap_servers=kafka))


@contextmanager
def running(name: str, database_url: str, kafka_bootstrap: str | None = None) -> Iterator[RunningService]:
    """Migrate ``database_url``, build the service and serve it in-process until the block ends."""
    spec = SERVICES[name]
    spec.upgrade(database_url)
    components = build_app(name, database_url, kafka_bootstrap or UNREACHABLE)
    app = components.app
    loop = LoopThread()
    stack = AsyncExitStack()
    loop.run(stack.enter_async_context(app.router.lifespan_context(app)))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
    try:
        yield RunningService(name, components, client, loop)
    finally:
        loop.run(client.aclose())
        loop.run(stack.aclose())
        loop.run(components.engine.dispose())
        loop.close()
