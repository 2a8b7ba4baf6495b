"""A supplier webhook too large to publish is refused where it enters (issue 16, item 1).

A signed payload of 1,020,000 bytes used to be answered 202; its SupplierPayloadReceived row then
exceeded the producer's message.max.bytes, produce() raised, the catalog's relay died, and the
process restarted into the same row forever. The webhook now answers 413 problem+json naming the
limit, nothing is stored, and the relay keeps publishing what comes next.
"""

from __future__ import annotations

import uuid

import orjson
import sqlalchemy as sa
from bookshelf_messaging.limits import MAX_MESSAGE_BYTES

from .conftest import Catalog, ReadTopic, envelope_of
from .test_supplier_feed import PATH, post, signed


def payload_of_size(size: int) -> tuple[str, bytes]:
    """A signed-webhook body of exactly ``size`` bytes, with its payload id."""
    payload_id = f"big-{uuid.uuid4()}"
    skeleton = orjson.dumps({"id": payload_id, "event_type": "catalog_dump", "note": ""})
    body = orjson.dumps(
        {"id": payload_id, "event_type": "catalog_dump", "note": "x" * (size - len(skeleton))}
    )
    assert len(body) == size
    return payload_id, body


async def stored(catalog: Catalog, payload_id: str) -> int:
    async with catalog.engine.connect() as conn:
        count = await conn.scalar(
            sa.text("SELECT count(*) FROM supplier_payloads WHERE payload->>'id' = :id"), {"id": payload_id}
        )
    return int(count or 0)


async def test_a_webhook_too_large_to_publish_is_413_and_the_relay_keeps_going(
    catalog: Catalog, read_topic: ReadTopic
) -> None:
    for size in (1_020_000, MAX_MESSAGE_BYTES - 500):  # over the body limit; over the record limit
        payload_id, body = payload_of_size(size)
        response = await catalog.http.post(PATH, content=body, headers=signed(body))
        assert response.status_code == 413, (size, response.text[:300])
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 413
        limit = problem["detail"].replace(",", "")
        assert str(MAX_MESSAGE_BYTES) in limit or str(MAX_MESSAGE_BYTES - 1_024) in limit, problem
        assert await stored(catalog, payload_id) == 0

    # The relay is alive: the next payload is published.
    message_id = await post(catalog, {"id": f"sup-{uuid.uuid4()}", "event_type": "price_dropped"})
    reader = await read_topic("supplier.book-supply")
    await reader.wait_for(lambda r: envelope_of(r)["message_id"] == message_id)
    assert catalog.components.relay is not None
    assert catalog.components.relay.is_active
