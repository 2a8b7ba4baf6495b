"""Scenario 4: duplicate, reordered, poison, oversized and unknown-type deliveries.

- Duplicates: every record of the business and command topics is published again (half the topics
  in reverse order), with its original key, value and headers, to its original partition.
- Reordered: three price changes of a book reach the topic newest first (the test plays the catalog
  relay for them); the storefront and ordering's catalog replica must keep the newest price.
- Poison and oversized records go to the DLQ of every group that handles their topic; unknown types
  are skipped. Nothing else may change: the verdict also checks that the open dead letters are
  exactly the injected ones (DLQ_EXPECTED) and that nothing else was dead-lettered.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import asyncpg
import pytest
from bookshelf_messaging.outbox import decode_headers

from tests.faults.cluster import Cluster
from tests.faults.load import ADMIN, Shop
from tests.faults.poison import GROUPS, harmless_records, poison_records
from tests.faults.scenario import finish, load_during
from tests.faults.settle import settle
from tests.faults.verdict import conclude
from tests.faults.wire import publish, raw, read_all

TOPICS = (
    "catalog.books",
    "inventory.stock",
    "inventory.reservations",
    "ordering.orders",
    "shipping.shipments",
    "inventory.commands",
    "ordering.commands",
    "shipping.commands",
    "supplier.book-supply",
)
PRICES = ("21.00", "22.00", "23.00")


async def duplicate_everything(cluster: Cluster) -> int:
    """Publish every record of TOPICS again; returns how many."""
    total = 0
    for index, topic in enumerate(TOPICS):
        records = await asyncio.to_thread(read_all, cluster.kafka_settings, topic)
        ordered = records[::-1] if index % 2 else records
        total += await asyncio.to_thread(publish, cluster.kafka_settings, ordered)
    return total


async def reversed_price_changes(shop: Shop, cluster: Cluster, books: list[str]) -> int:
    """Change each book's price three times, then publish the catalog outbox newest first."""
    await asyncio.to_thread(cluster.terminate, "catalog-relay")
    for book in books:
        for price in PRICES:
            body = {"price": {"amount": price, "currency": "USD"}}
            await shop.call("PATCH", "catalog", f"/books/{book}", json=body, headers=ADMIN, ok=(200,))
    conn = await asyncpg.connect(cluster.dsn("catalog"))
    try:
        rows = await conn.fetch(
            "SELECT id, topic, key, value, headers::text AS headers FROM outbox "
            "WHERE published_at IS NULL ORDER BY id DESC"
        )
        records = [raw(r["topic"], r["key"], r["value"], decode_headers(r["headers"])) for r in rows]
        await asyncio.to_thread(publish, cluster.kafka_settings, records)
        await conn.execute(
            "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
        )
    finally:
        await conn.close()
    await asyncio.to_thread(cluster.start_proc, "catalog-relay")
    return len(rows)


async def invalid_supplier_payload(shop: Shop) -> None:
    """A stock_replenished payload without quantity: accepted (stored), then dead-lettered."""
    payload_id = str(uuid.uuid4())
    answer = await shop.supplier({"event_type": "stock_replenished", "payload_id": payload_id})
    shop.ledger.dlq_expected |= {
        str(answer.json()["message_id"]): frozenset({"inventory.supplier-feed"}),
        payload_id: frozenset(),  # the record key; the entry is matched by its message id above
    }


async def unit_price(shop: Shop, book: str) -> Decimal:
    order = await shop.place_order("s4", {book: 1})
    placed = await shop.get("ordering", f"/orders/{order.order_id}")
    return Decimal(placed["items"][0]["unit_price"]["amount"])


@pytest.mark.timeout(900)
async def test_duplicate_reordered_poison_and_unknown_deliveries(shop: Shop, cluster: Cluster) -> None:
    facts: dict[str, int] = {}
    books = shop.ledger.books[:3]

    async def inject() -> int:
        poison, harmless = poison_records(), harmless_records()
        shop.ledger.dlq_expected |= {r.key.decode(): GROUPS[r.topic] for r in poison if r.key}
        facts["poison"] = await asyncio.to_thread(publish, cluster.kafka_settings, poison)
        facts["unknown_types"] = await asyncio.to_thread(publish, cluster.kafka_settings, harmless)
        await invalid_supplier_payload(shop)
        facts["reordered"] = await reversed_price_changes(shop, cluster, books)
        facts["duplicates"] = await duplicate_everything(cluster)
        return sum(facts.values()) + 1

    _, faults = await load_during(shop, "s4", inject, seed=4)
    assert not await settle(shop)
    prices = [await unit_price(shop, book) for book in books]  # ordering's replica kept the newest
    outcome = await finish(
        shop, "4 duplicate, reordered, poison, oversized, unknown deliveries", "s4", faults
    )
    outcome.facts |= facts
    conclude(cluster, outcome)
    assert prices == [Decimal(PRICES[-1])] * len(books), prices
