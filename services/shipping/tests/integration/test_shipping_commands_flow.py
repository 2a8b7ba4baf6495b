"""shipping.commands -> handler -> shipping.shipments, against real PostgreSQL and the broker."""

from __future__ import annotations

import re
import uuid
from uuid import UUID

import orjson
import sqlalchemy as sa
from bookshelf_contracts import (
    SHIPPING_COMMANDS,
    Address,
    CancelShipment,
    CreateShipment,
    Envelope,
    StockLine,
)
from bookshelf_infra.testing import eventually
from prometheus_client import REGISTRY

from .conftest import STAFF, ShippingIT, envelope_of, event, header

REFUSED = "bookshelf_shipping_cancel_refused_total"
ADDRESS = Address(street="1 Main St", city="Springfield", zip_code="12345", country="US")


def create_cmd(order_id: UUID, country: str = "US") -> CreateShipment:
    return CreateShipment(
        order_id=order_id,
        address=ADDRESS.model_copy(update={"country": country}),
        lines=[StockLine(book_id=uuid.uuid4(), quantity=2)],
    )


async def shipments_of(it: ShippingIT, order_id: UUID) -> list[dict]:  # type: ignore[type-arg]
    answer = await it.http.get("/shipments", params={"order_id": str(order_id)}, headers=STAFF)
    assert answer.status_code == 200, answer.text
    entries: list[dict] = answer.json()["entries"]  # type: ignore[type-arg]
    return entries


async def scalar(it: ShippingIT, sql: str, **params: object) -> object:
    async with it.components.engine.connect() as conn:
        return await conn.scalar(sa.text(sql), params)


async def test_create_shipment_announces_shipment_created(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    await shipping_it.send(create_cmd(order_id))
    (record,) = await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id))
    assert record.key == str(order_id).encode()
    data = envelope_of(record)["data"]
    assert re.fullmatch(r"TRK-[A-Z0-9]{10}", data["tracking_number"])
    assert data["version"] == 1
    (shipment,) = await shipments_of(shipping_it, order_id)
    assert shipment["shipment_id"] == data["shipment_id"]
    assert shipment["tracking_number"] == data["tracking_number"]
    assert shipment["status"] == "CREATED"
    assert shipment["address"]["street"] == "1 Main St"
    assert [h["status"] for h in shipment["history"]] == ["CREATED"]


async def test_the_event_carries_the_commands_correlation_and_causation(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    command = await shipping_it.send(create_cmd(order_id))
    (record,) = await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id))
    created = Envelope.from_json(record.value)
    assert created.correlation_id == command.correlation_id
    assert created.causation_id == str(command.message_id)
    assert created.producer == "shipping"


async def test_an_unserved_country_fails_and_keeps_no_shipment(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    await shipping_it.send(create_cmd(order_id, country="AQ"))
    (record,) = await shipping_it.shipments.wait_for(event("ShipmentFailed", order_id=order_id))
    assert envelope_of(record)["data"]["reason"] == (
        "country AQ is not served; served: US, CA, GB, DE, FR, NL, IE, AU"
    )
    assert await shipments_of(shipping_it, order_id) == []
    count = await scalar(shipping_it, "SELECT count(*) FROM shipments WHERE order_id = :o", o=order_id)
    assert count == 0
    # A repeated command answers the stored failure again, still without a shipment.
    await shipping_it.send(create_cmd(order_id, country="AQ"))
    first, again = await shipping_it.shipments.wait_for(event("ShipmentFailed", order_id=order_id), count=2)
    assert envelope_of(first)["data"] == envelope_of(again)["data"]
    assert await shipments_of(shipping_it, order_id) == []


async def test_a_duplicate_delivery_has_no_second_effect(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    same_id = uuid.uuid4()
    await shipping_it.send(create_cmd(order_id), message_id=same_id)
    await shipping_it.send(create_cmd(order_id), message_id=same_id)  # redelivery: the inbox skips it
    await shipping_it.send(create_cmd(order_id))  # the saga asking again: answered, not re-created
    created = await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id), count=2)
    # The second event answers the third record, so the redelivery in between was already skipped.
    assert (
        len([r for r in shipping_it.shipments.records if event("ShipmentCreated", order_id=order_id)(r)]) == 2
    )
    first, again = (envelope_of(r)["data"] for r in created)
    assert first == again
    assert len(await shipments_of(shipping_it, order_id)) == 1


def with_address(order_id: UUID, **changes: str) -> bytes:
    """The wire bytes of a CreateShipment for ``order_id`` whose address fields are replaced as is."""
    valid = Envelope.wrap(create_cmd(order_id), producer="fulfillment", correlation_id=str(uuid.uuid4()))
    data = {**valid.data, "address": {**valid.data["address"], **changes}}
    return orjson.dumps({**orjson.loads(valid.to_json()), "data": data})


async def test_an_invalid_command_lands_in_the_dlq_with_the_reason(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    value = with_address(order_id, country="USA")
    await shipping_it.send_raw(SHIPPING_COMMANDS, value, key=str(order_id).encode())
    (letter,) = await shipping_it.dead_letters.wait_for(lambda r: r.value == value)
    assert "MessageValidationError" in header(letter, "dlq.error_type")
    message = header(letter, "dlq.error_message")
    assert "invalid CreateShipment v2" in message
    assert "address.country" in message
    assert header(letter, "dlq.original_topic") == "shipping.commands"
    assert header(letter, "dlq.attempts") == "1"
    # The consumer moved on: a later command of the same order is handled.
    await shipping_it.send(create_cmd(order_id))
    await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id))


async def test_a_blank_street_fails_by_rule_and_is_not_dead_lettered(shipping_it: ShippingIT) -> None:
    # CreateShipment v2 lets a blank street through validation, so the saga hears ShipmentFailed at
    # once (and compensates) instead of waiting for its deadline while the command sits in the DLQ.
    order_id = uuid.uuid4()
    value = with_address(order_id, street="   ")
    await shipping_it.send_raw(SHIPPING_COMMANDS, value, key=str(order_id).encode())
    (record,) = await shipping_it.shipments.wait_for(event("ShipmentFailed", order_id=order_id))
    assert record.key == str(order_id).encode()
    assert envelope_of(record)["data"] == {
        "order_id": str(order_id),
        "reason": "street is blank (got ''); a shipment needs a street",
    }
    count = await scalar(shipping_it, "SELECT count(*) FROM shipments WHERE order_id = :o", o=order_id)
    assert count == 0
    assert await shipments_of(shipping_it, order_id) == []
    kind = await scalar(shipping_it, "SELECT kind FROM shipment_refusals WHERE order_id = :o", o=order_id)
    assert kind == "UNDELIVERABLE"
    # Marker: the same command again is answered with the stored failure; by then anything the first
    # record could have caused on the DLQ (same partition, handled before) would be there.
    await shipping_it.send_raw(
        SHIPPING_COMMANDS, with_address(order_id, street="   "), key=str(order_id).encode()
    )
    first, again = await shipping_it.shipments.wait_for(event("ShipmentFailed", order_id=order_id), count=2)
    assert envelope_of(first)["data"] == envelope_of(again)["data"]
    assert not [r for r in shipping_it.dead_letters.records if str(order_id).encode() in (r.value or b"")]


async def test_cancel_shipment_cancels_a_created_shipment_once(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    await shipping_it.send(create_cmd(order_id))
    await shipping_it.send(CancelShipment(order_id=order_id, reason="timed out"))
    await shipping_it.send(CancelShipment(order_id=order_id, reason="timed out"))  # saga resend: no-op
    await shipping_it.send(create_cmd(order_id))  # marker: its answer follows both cancels
    await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id), count=2)
    (cancelled,) = await shipping_it.shipments.wait_for(event("ShipmentCancelled", order_id=order_id))
    assert (
        len([r for r in shipping_it.shipments.records if event("ShipmentCancelled", order_id=order_id)(r)])
        == 1
    )
    assert envelope_of(cancelled)["data"]["reason"] == "timed out"
    assert envelope_of(cancelled)["data"]["version"] == 2
    (shipment,) = await shipments_of(shipping_it, order_id)
    assert shipment["status"] == "CANCELLED"
    assert shipment["history"][-1]["reason"] == "timed out"


async def test_cancel_before_creation_makes_a_late_create_fail(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    await shipping_it.send(CancelShipment(order_id=order_id, reason="customer request"))
    await shipping_it.send(create_cmd(order_id))
    # One ShipmentFailed answers the cancel at once (a saga in CANCELLING goes on), one the late create.
    answers = await shipping_it.shipments.wait_for(event("ShipmentFailed", order_id=order_id), count=2)
    assert len(answers) == 2
    for failed in answers:
        assert "cancelled before its shipment was created" in envelope_of(failed)["data"]["reason"]
    assert await shipments_of(shipping_it, order_id) == []


async def test_cancel_after_dispatch_is_acknowledged_without_effect(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    await shipping_it.send(create_cmd(order_id))
    (created,) = await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id))
    shipment_id = envelope_of(created)["data"]["shipment_id"]
    answer = await shipping_it.http.post(f"/shipments/{shipment_id}/dispatch", headers=STAFF)
    assert answer.status_code == 200, answer.text
    refused = REGISTRY.get_sample_value(REFUSED, {"status": "DISPATCHED"}) or 0.0
    await shipping_it.send(CancelShipment(order_id=order_id, reason="too late"))
    await shipping_it.send(create_cmd(order_id))  # marker: answered after the cancel was handled
    await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id), count=2)
    assert not [r for r in shipping_it.shipments.records if event("ShipmentCancelled", order_id=order_id)(r)]
    assert (await shipments_of(shipping_it, order_id))[0]["status"] == "DISPATCHED"
    assert REGISTRY.get_sample_value(REFUSED, {"status": "DISPATCHED"}) == refused + 1
    # Acknowledged, not dead-lettered (a dead letter keeps the original value).
    assert not [r for r in shipping_it.dead_letters.records if b"too late" in (r.value or b"")]


async def test_commands_are_recorded_in_the_inbox(shipping_it: ShippingIT) -> None:
    order_id = uuid.uuid4()
    command = await shipping_it.send(create_cmd(order_id))
    await shipping_it.shipments.wait_for(event("ShipmentCreated", order_id=order_id))
    sql = "SELECT count(*) FROM inbox WHERE message_id = :m"
    assert await eventually(lambda: scalar(shipping_it, sql, m=command.message_id)) == 1
