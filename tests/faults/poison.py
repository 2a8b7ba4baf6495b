"""Records that must not harm anyone: poison (not JSON, not an envelope, a known type with invalid
data), oversized, and unknown types. Poison ends in the DLQ of every consumer group of its topic
(GROUPS; each poison type here is one all of them handle); unknown types are skipped (tolerant reader)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from bookshelf_messaging.limits import MAX_RECORD_BYTES

from tests.faults.wire import Record, raw

# bytes: about the largest record the topics take (max.message.bytes, bookshelf_messaging.limits),
# its dead letter (the record plus its failure headers) is larger still
OVERSIZED = MAX_RECORD_BYTES - 4_096
# The consumer groups reading each topic: every one of them must dead-letter a poison record there.
GROUPS = {
    "ordering.orders": frozenset({"storefront.order-events", "fulfillment.saga"}),
    "inventory.commands": frozenset({"inventory.commands"}),
    "catalog.books": frozenset(
        {"ordering.catalog-replica", "inventory.catalog-events", "storefront.catalog-events"}
    ),
    "shipping.commands": frozenset({"shipping.commands"}),
}


def envelope(type_: str, data: dict[str, Any], *, pad: int = 0) -> bytes:
    """A well-formed envelope of any type (``pad`` bytes of filler in the data)."""
    if pad:
        data = {**data, "filler": "x" * pad}
    return orjson.dumps(
        {
            "message_id": str(uuid.uuid4()),
            "type": type_,
            "version": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "correlation_id": f"faults-{uuid.uuid4().hex[:8]}",
            "producer": "faults",
            "data": data,
        }
    )


def _key(kind: str) -> str:
    return f"{kind}-{uuid.uuid4()}"


def poison_records() -> list[Record]:
    """Records every consumer of their topic must dead-letter (keys start with ``poison-``)."""
    found: list[Record] = []
    for topic in ("ordering.orders", "inventory.commands", "catalog.books", "shipping.commands"):
        found += [
            raw(topic, _key("poison"), b"\x00\x01 this is not JSON"),
            raw(topic, _key("poison"), orjson.dumps({"hello": "not an envelope"})),
        ]
    found += [
        raw("ordering.orders", _key("poison"), envelope("OrderPlaced", {"order_id": "not-a-uuid"})),
        raw("inventory.commands", _key("poison"), envelope("ReserveStock", {"lines": "none"})),
        raw("catalog.books", _key("poison"), envelope("BookAdded", {"title": ""})),
        raw("inventory.commands", _key("poison"), b"\x00" * OVERSIZED),
        raw("ordering.orders", _key("poison"), b"\x00" * OVERSIZED),  # read by the saga worker too
    ]
    return found


def harmless_records() -> list[Record]:
    """Records nobody handles: unknown types, one of them oversized (keys start with ``unknown-``)."""
    return [
        raw("ordering.orders", _key("unknown"), envelope("OrderGiftWrapped", {"paper": "red"})),
        raw("inventory.commands", _key("unknown"), envelope("CountStock", {"aisle": 7})),
        raw("catalog.books", _key("unknown"), envelope("BookSigned", {"by": "author"})),
        raw("ordering.orders", _key("unknown"), envelope("OrderNoted", {}, pad=OVERSIZED)),
    ]
