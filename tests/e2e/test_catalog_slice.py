"""The catalog vertical slice through `bookshelf run`: HTTP -> outbox -> Kafka -> supplier ACL consumer."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

import httpx
import orjson
from aiokafka import AIOKafkaConsumer
from bookshelf_infra.testing import eventually

from tests.e2e.system import ADMIN, RunningSystem


def _isbn13() -> str:
    digits = [9, 7, 8] + [int(d) for d in str(uuid.uuid4().int)[:9]]
    check = (10 - sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


async def test_added_book_is_served_and_published_with_the_request_correlation_id(
    running_system: RunningSystem,
) -> None:
    correlation_id = f"e2e-{uuid.uuid4()}"
    book = {
        "title": "Dune",
        "author": "Frank Herbert",
        "isbn": _isbn13(),
        "price": {"amount": "9.99", "currency": "USD"},
    }
    async with httpx.AsyncClient(base_url=running_system.url("catalog")) as client:
        created = await client.post("/books", json=book, headers=ADMIN | {"X-Correlation-ID": correlation_id})
        assert created.status_code == 201, created.text
        assert created.headers["x-correlation-id"] == correlation_id
        book_id = created.json()["book_id"]
        fetched = await client.get(f"/books/{book_id}")
        assert fetched.status_code == 200
        assert fetched.json()["title"] == "Dune"

    consumer = AIOKafkaConsumer(
        "catalog.books",
        bootstrap_servers=running_system.kafka_bootstrap,
        group_id=f"e2e-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    seen: list[dict[str, object]] = []
    try:

        async def book_added_published() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            seen.extend(orjson.loads(r.value) for records in batch.values() for r in records)
            return any(e["type"] == "BookAdded" and e["data"]["book_id"] == book_id for e in seen)

        await eventually(book_added_published, timeout=30, message="BookAdded never reached catalog.books")
    finally:
        await consumer.stop()
    envelope = next(e for e in seen if e["type"] == "BookAdded" and e["data"]["book_id"] == book_id)
    assert envelope["correlation_id"] == correlation_id
    assert envelope["producer"] == "catalog"


async def test_signed_supplier_webhook_adds_the_book_through_the_anti_corruption_consumer(
    running_system: RunningSystem,
) -> None:
    isbn = _isbn13()
    body = orjson.dumps(
        {
            "event_type": "new_book_available",
            "title": "Solaris",
            "author": "Stanislaw Lem",
            "price": 12.5,
            "isbn": isbn,
        }
    )
    timestamp = str(int(time.time()))
    signature = hmac.new(b"dev-supplier-secret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "X-BookSupply-Timestamp": timestamp,
        "X-BookSupply-Signature": f"sha256={signature}",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=running_system.url("catalog")) as client:
        accepted = await client.post("/webhooks/book-supply", content=body, headers=headers)
        assert accepted.status_code == 202, accepted.text

        async def book_listed() -> bool:
            page = (await client.get("/books", params={"limit": 100})).json()
            return any(b.get("isbn") == isbn for b in page["entries"])

        await eventually(book_listed, timeout=30, message="the supplier's book never appeared in the catalog")
