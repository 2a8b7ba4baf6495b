"""Command handlers against the in-memory unit of work: idempotent create, refusals, cancel, staff moves."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from bookshelf_contracts import (
    Address,
    CancelShipment,
    CreateShipment,
    Envelope,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentFailed,
    StockLine,
    parse_message,
)
from bookshelf_shipping.domain.exceptions import ShipmentNotFound, TransitionAlreadyMade
from bookshelf_shipping.domain.model import RefusalKind, ShipmentStatus
from bookshelf_shipping.domain.rules import DEFAULT_COUNTRIES, ServedCountries
from bookshelf_shipping.service_layer import metrics
from bookshelf_shipping.service_layer.commands import DeliverShipment, DispatchShipment
from bookshelf_shipping.service_layer.handlers import ShippingDeps, handle

from ..fakes import InMemoryUnitOfWork

AT = datetime(2025, 1, 2, tzinfo=UTC)
ADDRESS = Address(street="1 Main St", city="Springfield", zip_code="12345", country="US")


def numbers(*values: str) -> Callable[[], str]:
    source: Iterator[str] = iter(values)
    return lambda: next(source)


def deps(countries: str = DEFAULT_COUNTRIES, tracking: Callable[[], str] | None = None) -> ShippingDeps:
    counter = itertools.count()
    return ShippingDeps(
        served=ServedCountries.parse(countries),
        new_tracking_number=tracking or (lambda: f"TRK-{next(counter):010d}"),
        clock=lambda: AT,
    )


def create_cmd(order_id: uuid.UUID, country: str = "US") -> CreateShipment:
    return CreateShipment(
        order_id=order_id,
        address=ADDRESS.model_copy(update={"country": country}),
        lines=[StockLine(book_id=uuid.uuid4(), quantity=1)],
    )


async def run(uow: InMemoryUnitOfWork, command: object, d: ShippingDeps | None = None) -> object:
    """One handler call in its own unit of work (its own transaction) over the shared store."""
    return await handle(command, uow.fresh(), d or deps())


async def test_create_stores_a_shipment_and_announces_it() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    assert await run(uow, create_cmd(order_id)) == "created"
    (shipment,) = uow.shipment_rows.values()
    assert (shipment.order_id, shipment.status, shipment.tracking_number) == (
        order_id,
        ShipmentStatus.CREATED,
        "TRK-0000000000",
    )
    assert uow.published == [
        ShipmentCreated(
            shipment_id=shipment.shipment_id, order_id=order_id, tracking_number="TRK-0000000000", version=1
        )
    ]


async def test_creating_twice_answers_the_existing_shipment() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id))
    assert await run(uow, create_cmd(order_id)) == "existing"
    assert len(uow.shipment_rows) == 1
    first, again = uow.published
    assert first == again  # same shipment id, tracking number and version: the saga can progress


async def test_creating_again_after_dispatch_still_answers_the_first_creation() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id))
    (shipment,) = uow.shipment_rows.values()
    await run(uow, DispatchShipment(shipment.shipment_id))
    await run(uow, create_cmd(order_id))
    assert uow.published[-1] == uow.published[0]
    assert next(iter(uow.shipment_rows.values())).status is ShipmentStatus.DISPATCHED


async def test_an_undeliverable_country_fails_and_keeps_no_shipment() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    assert await run(uow, create_cmd(order_id, country="AQ")) == "undeliverable"
    assert uow.shipment_rows == {}
    reason = "country AQ is not served; served: US, CA, GB, DE, FR, NL, IE, AU"
    assert uow.published == [ShipmentFailed(order_id=order_id, reason=reason)]
    assert uow.refusal_rows[order_id].kind is RefusalKind.UNDELIVERABLE


BLANK_STREET = "street is blank (got ''); a shipment needs a street"


@pytest.mark.parametrize("street", ["", "   ", "\t\n"])
async def test_a_blank_street_on_the_wire_fails_by_rule_and_keeps_no_shipment(street: str) -> None:
    # The command as the consumer gets it: parsed from the wire, where a blank street is valid (v2).
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    sent = Envelope.wrap(create_cmd(order_id), producer="fulfillment", correlation_id="c-1")
    data = {**sent.data, "address": {**sent.data["address"], "street": street}}
    command = parse_message(sent.model_copy(update={"data": data}))
    assert await run(uow, command) == "undeliverable"
    assert uow.shipment_rows == {}
    assert uow.published == [ShipmentFailed(order_id=order_id, reason=BLANK_STREET)]
    assert uow.refusal_rows[order_id].kind is RefusalKind.UNDELIVERABLE


async def test_a_blank_street_and_an_unserved_country_are_both_named() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    address = {**ADDRESS.model_dump(), "street": " ", "country": "AQ"}
    command = CreateShipment.model_validate({**create_cmd(order_id).model_dump(), "address": address})
    assert await run(uow, command) == "undeliverable"
    (failed,) = uow.published
    assert isinstance(failed, ShipmentFailed)
    unserved = "country AQ is not served; served: US, CA, GB, DE, FR, NL, IE, AU"
    assert failed.reason == f"{BLANK_STREET}; {unserved}"
    assert uow.shipment_rows == {}


async def test_a_repeated_create_after_a_failure_answers_the_same_failure() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id, country="AQ"))
    # Even if the served countries changed meanwhile: the stored outcome is the answer.
    assert await run(uow, create_cmd(order_id, country="AQ"), deps("US,AQ")) == "refused_again"
    first, again = uow.published
    assert first == again
    assert uow.shipment_rows == {}


async def test_a_tracking_number_collision_draws_a_new_number() -> None:
    uow = InMemoryUnitOfWork()
    draw = numbers("TRK-AAAAAAAAAA", "TRK-AAAAAAAAAA", "TRK-BBBBBBBBBB")
    d = deps(tracking=draw)
    await run(uow, create_cmd(uuid.uuid4()), d)
    before = metrics.TRACKING_COLLISIONS._value.get()
    await run(uow, create_cmd(uuid.uuid4()), d)
    assert sorted(s.tracking_number for s in uow.shipment_rows.values()) == [
        "TRK-AAAAAAAAAA",
        "TRK-BBBBBBBBBB",
    ]
    assert [e.tracking_number for e in uow.published] == ["TRK-AAAAAAAAAA", "TRK-BBBBBBBBBB"]  # type: ignore[attr-defined]
    assert metrics.TRACKING_COLLISIONS._value.get() == before + 1


async def test_running_out_of_tracking_numbers_raises_so_the_runner_retries() -> None:
    uow = InMemoryUnitOfWork()
    d = deps(tracking=lambda: "TRK-AAAAAAAAAA")
    await run(uow, create_cmd(uuid.uuid4()), d)
    with pytest.raises(RuntimeError, match="no free tracking number after 5 attempts"):
        await run(uow, create_cmd(uuid.uuid4()), d)


async def test_cancel_cancels_a_created_shipment_once() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id))
    assert await run(uow, CancelShipment(order_id=order_id, reason="timed out")) == "cancelled"
    assert await run(uow, CancelShipment(order_id=order_id, reason="timed out")) == "already_cancelled"
    (shipment,) = uow.shipment_rows.values()
    assert shipment.status is ShipmentStatus.CANCELLED
    assert shipment.history[-1].reason == "timed out"
    cancelled = [e for e in uow.published if isinstance(e, ShipmentCancelled)]
    assert cancelled == [
        ShipmentCancelled(shipment_id=shipment.shipment_id, order_id=order_id, reason="timed out", version=2)
    ]


async def test_cancel_without_a_shipment_is_recorded_and_a_late_create_fails() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    assert await run(uow, CancelShipment(order_id=order_id, reason="customer request")) == "no_shipment"
    assert uow.refusal_rows[order_id].kind is RefusalKind.CANCELLED_BEFORE_CREATION
    # Answered at once: a saga waiting in CANCELLING must not wait for a dead letter's replay.
    (answer,) = uow.published
    assert isinstance(answer, ShipmentFailed)
    assert answer.reason == "order was cancelled before its shipment was created: customer request"
    # A CreateShipment replayed from the DLQ after the saga gave up must not leave a CREATED shipment.
    assert await run(uow, create_cmd(order_id)) == "refused_again"
    assert uow.shipment_rows == {}
    assert uow.published == [answer, answer]


@pytest.mark.parametrize("status", [ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED])
async def test_cancel_after_the_goods_left_is_acknowledged_without_effect(status: ShipmentStatus) -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id))
    (shipment,) = uow.shipment_rows.values()
    await run(uow, DispatchShipment(shipment.shipment_id))
    if status is ShipmentStatus.DELIVERED:
        await run(uow, DeliverShipment(shipment.shipment_id))
    published = list(uow.published)
    before = metrics.CANCEL_REFUSED.labels(status.value)._value.get()
    assert await run(uow, CancelShipment(order_id=order_id, reason="late")) == "too_late"
    assert uow.published == published
    assert uow.shipment_rows[shipment.shipment_id].status is status
    assert metrics.CANCEL_REFUSED.labels(status.value)._value.get() == before + 1


async def test_dispatch_then_deliver_announce_each_move() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id))
    (shipment,) = uow.shipment_rows.values()
    await run(uow, DispatchShipment(shipment.shipment_id))
    await run(uow, DeliverShipment(shipment.shipment_id))
    _, dispatched, delivered = uow.published
    assert dispatched == ShipmentDispatched(
        shipment_id=shipment.shipment_id,
        order_id=order_id,
        tracking_number=shipment.tracking_number,
        version=2,
    )
    assert delivered == ShipmentDelivered(shipment_id=shipment.shipment_id, order_id=order_id, version=3)


async def test_staff_repeats_are_conflicts_without_effect() -> None:
    uow, order_id = InMemoryUnitOfWork(), uuid.uuid4()
    await run(uow, create_cmd(order_id))
    (shipment,) = uow.shipment_rows.values()
    await run(uow, DispatchShipment(shipment.shipment_id))
    with pytest.raises(TransitionAlreadyMade, match="is already DISPATCHED; dispatch needs CREATED"):
        await run(uow, DispatchShipment(shipment.shipment_id))
    assert len(uow.published) == 2
    assert uow.shipment_rows[shipment.shipment_id].version == 2


async def test_moving_an_unknown_shipment_is_not_found() -> None:
    with pytest.raises(ShipmentNotFound, match="does not exist"):
        await run(InMemoryUnitOfWork(), DeliverShipment(uuid.uuid4()))


async def test_a_command_without_a_handler_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="no handler for command str"):
        await run(InMemoryUnitOfWork(), "dispatch")
