"""The Shipment aggregate: creation, the status machine, events and versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from bookshelf_contracts import (
    Address,
    DeliveryAddress,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    StockLine,
)
from bookshelf_shipping.domain.exceptions import InvalidTrackingNumber, InvalidTransition, Undeliverable
from bookshelf_shipping.domain.model import REASON_MAX, Shipment, ShipmentStatus
from bookshelf_shipping.domain.rules import DEFAULT_COUNTRIES, ServedCountries

SERVED = ServedCountries.parse(DEFAULT_COUNTRIES)
AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ADDRESS = Address(street="1 Main St", city="Springfield", zip_code="12345", country="US")
LINES = [StockLine(book_id=uuid.uuid4(), quantity=2)]


def new_shipment(address: Address | DeliveryAddress = ADDRESS) -> Shipment:
    return Shipment.create(
        uuid.uuid4(), address, LINES, served=SERVED, tracking_number="TRK-ABCDE12345", at=AT
    )


def test_create_records_shipment_created_with_version_1() -> None:
    shipment = new_shipment()
    assert shipment.status is ShipmentStatus.CREATED
    assert shipment.version == 1
    assert [(h.status, h.at) for h in shipment.history] == [(ShipmentStatus.CREATED, AT)]
    assert shipment.pull_events() == [
        ShipmentCreated(
            shipment_id=shipment.shipment_id,
            order_id=shipment.order_id,
            tracking_number="TRK-ABCDE12345",
            version=1,
        )
    ]
    assert shipment.pull_events() == []  # taken once


def test_create_refuses_an_unserved_country() -> None:
    with pytest.raises(Undeliverable, match=r"^country AQ is not served; served: US, CA, GB"):
        new_shipment(ADDRESS.model_copy(update={"country": "AQ"}))


def test_create_refuses_a_blank_street() -> None:
    # CreateShipment's DeliveryAddress carries a blank street; the order's Address cannot even hold
    # one (only unvalidated), and the rule refuses both.
    carried = DeliveryAddress.model_validate({**ADDRESS.model_dump(), "street": "   "})
    unvalidated = Address.model_construct(street="   ", city="X", state="", zip_code="1", country="US")
    for blank in (carried, unvalidated):
        with pytest.raises(Undeliverable, match="street is blank"):
            new_shipment(blank)


def test_a_deliverable_delivery_address_is_kept_as_the_orders_address() -> None:
    shipment = new_shipment(DeliveryAddress.model_validate(ADDRESS.model_dump()))
    assert type(shipment.address) is Address
    assert shipment.address == ADDRESS


def test_create_refuses_a_malformed_tracking_number() -> None:
    with pytest.raises(InvalidTrackingNumber):
        Shipment.create(uuid.uuid4(), ADDRESS, LINES, served=SERVED, tracking_number="TRK-1", at=AT)


def at_status(status: ShipmentStatus) -> Shipment:
    shipment = new_shipment()
    if status is ShipmentStatus.CANCELLED:
        shipment.cancel("test", AT)
    if status in (ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED):
        shipment.dispatch(AT)
    if status is ShipmentStatus.DELIVERED:
        shipment.deliver(AT)
    shipment.pull_events()
    return shipment


def act(shipment: Shipment, action: str) -> bool:
    if action == "cancel":
        return shipment.cancel("customer request", AT)
    return bool(getattr(shipment, action)(AT))


C, S, D, X = (
    ShipmentStatus.CREATED,
    ShipmentStatus.DISPATCHED,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.CANCELLED,
)
# (status, action) -> the status reached, "noop" (repeat of the move made), or "conflict".
MATRIX = {
    (C, "dispatch"): S,
    (C, "deliver"): "conflict",
    (C, "cancel"): X,
    (S, "dispatch"): "noop",
    (S, "deliver"): D,
    (S, "cancel"): "conflict",
    (D, "dispatch"): "conflict",
    (D, "deliver"): "noop",
    (D, "cancel"): "conflict",
    (X, "dispatch"): "conflict",
    (X, "deliver"): "conflict",
    (X, "cancel"): "noop",
}
EVENT_OF = {"dispatch": ShipmentDispatched, "deliver": ShipmentDelivered, "cancel": ShipmentCancelled}


@pytest.mark.parametrize(("status", "action"), list(MATRIX), ids=lambda v: str(v))
def test_status_machine(status: ShipmentStatus, action: str) -> None:
    shipment = at_status(status)
    version, history = shipment.version, list(shipment.history)
    expected = MATRIX[(status, action)]
    if expected == "conflict":
        with pytest.raises(InvalidTransition, match=f"cannot {action} shipment .*: its status is {status}"):
            act(shipment, action)
        assert (shipment.status, shipment.version, shipment.history) == (status, version, history)
    elif expected == "noop":
        assert act(shipment, action) is False
        assert (shipment.status, shipment.version, shipment.history) == (status, version, history)
    else:
        assert act(shipment, action) is True
        assert shipment.status == expected
        assert shipment.version == version + 1
        assert shipment.history[-1].status == expected
        assert shipment.history[-1].at == AT
    events = shipment.pull_events()
    if expected in ("conflict", "noop"):
        assert events == []
    else:
        assert len(events) == 1
        assert isinstance(events[0], EVENT_OF[action])
        assert events[0].version == shipment.version  # type: ignore[attr-defined]


def test_events_carry_the_ids_and_versions_in_order() -> None:
    shipment = new_shipment()
    shipment.dispatch(AT)
    shipment.deliver(AT)
    created, dispatched, delivered = shipment.pull_events()
    assert isinstance(dispatched, ShipmentDispatched)
    assert dispatched.tracking_number == shipment.tracking_number
    assert [e.version for e in (created, dispatched, delivered)] == [1, 2, 3]  # type: ignore[attr-defined]
    assert [h.status.value for h in shipment.history] == ["CREATED", "DISPATCHED", "DELIVERED"]


def test_cancel_keeps_the_reason_in_event_and_history() -> None:
    shipment = new_shipment()
    shipment.pull_events()
    shipment.cancel("x" * 5000, AT)
    (event,) = shipment.pull_events()
    assert isinstance(event, ShipmentCancelled)
    assert len(event.reason) == REASON_MAX
    assert shipment.history[-1].reason == event.reason


def test_created_event_is_the_same_after_later_changes() -> None:
    shipment = new_shipment()
    first = shipment.pull_events()[0]
    shipment.dispatch(AT)
    assert shipment.created_event() == first
