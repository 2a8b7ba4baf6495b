"""The trace of a saga from the index (``GET /api/trace/{id}``) and from a direct topic scan."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from bookshelf_contracts import OrderConfirmed
from bookshelf_infra.testing import eventually
from bookshelf_observatory.adapters.topic_scan import TopicScan

from .conftest import ObservatoryIT
from .observatory_messages import confirm_order, create_shipment, order_placed, reserve_stock, stock_reserved


async def _saga(obs: ObservatoryIT, cid: str, order_id: UUID) -> dict[str, Any]:
    """OrderPlaced -> ReserveStock -> StockReserved (published twice) -> ConfirmOrder + CreateShipment,
    the CreateShipment dead-lettered by shipping."""
    book = uuid4()
    placed, _ = await obs.send(
        obs.orders, order_placed(order_id, book), correlation_id=cid, producer="ordering"
    )
    reserve, _ = await obs.send(
        obs.commands,
        reserve_stock(order_id, book),
        correlation_id=cid,
        causation=placed,
        producer="fulfillment",
    )
    reserved_msg = stock_reserved(order_id, book)
    reserved, _ = await obs.send(
        obs.orders, reserved_msg, correlation_id=cid, causation=reserve, producer="inventory"
    )
    await obs.send(obs.orders, reserved_msg, correlation_id=cid, envelope=reserved)  # the relay re-published
    for command in (confirm_order(order_id), create_shipment(order_id, book)):
        env, record = await obs.send(
            obs.commands, command, correlation_id=cid, causation=reserved, producer="fulfillment"
        )
    entry_id = await obs.dead_letter(record, "shipping.commands")
    return {"placed": placed, "create": env, "entry_id": entry_id}


def _shape(node: dict[str, Any]) -> tuple[Any, ...]:
    return (node["type"], node["outcome"], tuple(_shape(c) for c in node["children"]))


EXPECTED = (
    "OrderPlaced",
    "handled",
    (
        (
            "ReserveStock",
            "handled",
            (
                (
                    "StockReserved",
                    "handled",
                    (("ConfirmOrder", "delivered", ()), ("CreateShipment", "dead_lettered", ())),
                ),
            ),
        ),
    ),
)


async def _trace(obs: ObservatoryIT, query: str, count: int) -> dict[str, Any]:
    async def complete() -> dict[str, Any] | None:
        response = await obs.staff.get(f"/api/trace/{query}")
        body: dict[str, Any] = response.json()
        dead_lettered = response.status_code == 200 and "dead_lettered" in str(body)
        return body if dead_lettered and body["count"] >= count else None

    return await eventually(complete, timeout=30, message=f"trace of {query} with {count} messages")


async def test_trace_api_shows_the_causation_tree_with_outcomes(observatory_it: ObservatoryIT) -> None:
    cid, order_id = f"it-{uuid4()}", uuid4()
    sent = await _saga(observatory_it, cid, order_id)
    trace = await _trace(observatory_it, cid, 5)
    assert trace["correlation_ids"] == [cid]
    assert [_shape(root) for root in trace["roots"]] == [EXPECTED]
    root = trace["roots"][0]
    assert (root["producer"], root["topic"], root["key"]) == (
        "ordering",
        observatory_it.orders,
        str(order_id),
    )
    assert root["message_id"] == str(sent["placed"].message_id)
    reserved = root["children"][0]["children"][0]
    assert [c["outcome"] for c in reserved["copies"]] == ["duplicate"]
    create = reserved["children"][1]
    assert create["dead_letters"][0]["entry_id"] == sent["entry_id"]
    assert create["dead_letters"][0]["consumer_group"] == "shipping.commands"
    assert create["dead_letters"][0]["error_type"] == "ValueError"


async def test_an_order_id_finds_every_correlation_id_keyed_by_it(observatory_it: ObservatoryIT) -> None:
    cid, later, order_id = f"it-{uuid4()}", f"it-later/{uuid4()}", uuid4()  # any X-Correlation-ID
    await _saga(observatory_it, cid, order_id)
    await observatory_it.send(
        observatory_it.orders, OrderConfirmed(order_id=order_id, version=2), correlation_id=later
    )
    trace = await _trace(observatory_it, str(order_id), 6)
    assert trace["correlation_ids"] == [cid, later]
    assert [root["type"] for root in trace["roots"]] == ["OrderPlaced", "OrderConfirmed"]
    by_later = await observatory_it.staff.get(f"/api/trace/{quote(later, safe='')}")
    assert by_later.json()["correlation_ids"] == [later]
    missing = await observatory_it.staff.get(f"/api/trace/{uuid4()}")
    assert missing.status_code == 404
    assert "no indexed message" in missing.json()["detail"]


async def test_a_topic_scan_builds_the_same_tree_as_the_index(observatory_it: ObservatoryIT) -> None:
    cid, order_id = f"it-{uuid4()}", uuid4()
    await _saga(observatory_it, cid, order_id)
    indexed = await _trace(observatory_it, cid, 5)
    scan = TopicScan(observatory_it.kafka, topics=observatory_it.topics, timeout_s=30)
    scanned = await asyncio.to_thread(scan.trace, cid)
    assert scanned is not None
    assert scanned.to_dict() == indexed
    by_order = await asyncio.to_thread(scan.trace, str(order_id))
    assert by_order is not None
    assert by_order.correlation_ids == [cid]
    assert by_order.count == 5
    assert await asyncio.to_thread(scan.trace, f"nothing-{uuid4()}") is None
