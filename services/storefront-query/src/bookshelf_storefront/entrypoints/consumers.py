"""Kafka consumers: one runner (group ``storefront.<purpose>``) per source topic, on the shared runner.

Each reads its topic and the ``.bulk`` lane (``lanes=True``), applies every read model's projections
of the event in the runner's transaction (which also records the inbox row), and leaves retries,
backoff and ``<topic>.dlq`` to the runner: an unparsable or schema-invalid record is dead-lettered at
once and the records behind it keep flowing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_STOCK,
    ORDERING_ORDERS,
    SHIPPING_SHIPMENTS,
    Envelope,
    Message,
    topic_spec,
)
from bookshelf_messaging import ConsumerRunner, Handler, KafkaSettings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_storefront.adapters.stores import SqlStores
from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.service_layer.projections import Projection, project, projections_for


def _handler(chain: list[Projection]) -> Handler:
    async def handle(message: Message, envelope: Envelope, session: AsyncSession) -> None:
        """Apply the read models' projections of this event through the live views."""
        await project(chain, message, envelope.occurred_at, SqlStores(session))

    return handle


def live_handlers(topic: str, models: Sequence[str]) -> dict[str, Handler]:
    """``{type: handler}`` for the event types ``topic`` carries that change any of ``models``."""
    carried = set(topic_spec(topic).types)
    return {name: _handler(chain) for name, chain in projections_for(models).items() if name in carried}


def consumer_plan(settings: StorefrontSettings) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(group, topic, read models)`` of every live consumer."""
    return [
        (settings.catalog_group, CATALOG_BOOKS, ("storefront", "catalog", "reports")),
        (settings.inventory_group, INVENTORY_STOCK, ("storefront",)),
        (settings.orders_group, ORDERING_ORDERS, ("reports", "tracking")),
        (settings.shipments_group, SHIPPING_SHIPMENTS, ("tracking",)),
    ]


def consumers(
    settings: StorefrontSettings, session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings
) -> list[ConsumerRunner]:
    """The four live consumer runners."""
    return [
        ConsumerRunner(group, [topic], live_handlers(topic, models), session_factory, kafka, lanes=True)
        for group, topic, models in consumer_plan(settings)
    ]
