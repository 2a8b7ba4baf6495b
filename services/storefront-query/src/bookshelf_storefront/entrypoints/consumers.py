"""Kafka consumers: one runner (group ``storefront.<purpose>``) per source topic, on the shared runner.

Each reads its topic and the ``.bulk`` lane (``lanes=True``), applies every read model's projections
of the event in the runner's transaction (which also records the inbox row), and leaves retries,
backoff and ``<topic>.dlq`` to the runner: an unparsable or schema-invalid record is dead-lettered at
once and the records behind it keep flowing.

Every handler is ONE ``BatchHandler`` per topic: the runner hands it every consecutive fresh message
of a partition batch and it runs their projections on batch-mode stores (``SqlStores(batch=True)``,
as rebuilds do): book upserts are written with one executemany per statement shape (they commute:
a column group only takes a higher version, so the later event wins and a stale or repeated one
changes nothing, inside a batch as across batches); the order rows of reports and tracking are
locked once for the whole batch in key order, changed in memory event after event in partition
order, and written back with one executemany. A batch that fails rolls back and the runner re-runs
its messages one per transaction (retries, then ``<topic>.dlq`` for the culprit alone). Projections
publish nothing, so running without per-message correlation is fine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_STOCK,
    ORDERING_ORDERS,
    SHIPPING_SHIPMENTS,
    Envelope,
    Message,
    topic_spec,
)
from bookshelf_messaging import BatchHandler, Consumer
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_storefront.adapters.stores import SqlStores
from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.domain.read_models import fed_by
from bookshelf_storefront.service_layer.projections import Projection, project_batch, projections_for


def _batch_handler(chains: Mapping[str, list[Projection]]) -> BatchHandler:
    async def handle_batch(batch: Sequence[tuple[Message, Envelope]], session: AsyncSession) -> None:
        """Apply the read models' projections of a run of events, then write them set-based."""
        stores = SqlStores(session, batch=True)
        await project_batch(chains, [(message, envelope.occurred_at) for message, envelope in batch], stores)
        await stores.flush_batch()

    return BatchHandler(handle_batch)


def live_handlers(topic: str, models: Sequence[str]) -> dict[str, BatchHandler]:
    """``{type: handler}`` for the event types ``topic`` carries that change any of ``models``.

    Every type maps to the same BatchHandler, so a run of mixed types is one call.
    """
    carried = set(topic_spec(topic).types)
    chains = {name: chain for name, chain in projections_for(models).items() if name in carried}
    handler = _batch_handler(chains)
    return dict.fromkeys(chains, handler)


def consumer_plan(settings: StorefrontSettings) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(group, topic, read models)`` of every live consumer: one group per source topic, feeding the
    read models ``domain.read_models`` says the topic feeds."""
    groups = {
        CATALOG_BOOKS: settings.catalog_group,
        INVENTORY_STOCK: settings.inventory_group,
        ORDERING_ORDERS: settings.orders_group,
        SHIPPING_SHIPMENTS: settings.shipments_group,
    }
    return [(group, topic, fed_by(topic)) for topic, group in groups.items()]


def consumers(settings: StorefrontSettings) -> list[Consumer]:
    """The four live consumers (each with its ``.bulk`` lane)."""
    return [
        Consumer(group, [topic], live_handlers(topic, models), lanes=True)
        for group, topic, models in consumer_plan(settings)
    ]
