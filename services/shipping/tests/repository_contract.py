"""The contract of shipping's repository ports, one abstract test class per port (docs/style.md, "Tests"):
run against the fakes in tests/unit and the SQL adapters in tests/integration. ``store()`` opens one
transaction and yields its repositories; what one transaction stored, the next one reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import pytest
from bookshelf_contracts import Address, StockLine
from bookshelf_shipping.domain.exceptions import TrackingNumberTaken
from bookshelf_shipping.domain.model import Refusal, RefusalKind, Shipment, ShipmentStatus
from bookshelf_shipping.domain.rules import ServedCountries
from bookshelf_shipping.service_layer.unit_of_work import RefusalRepository, ShipmentRepository

Repositories = tuple[ShipmentRepository, RefusalRepository]
Store = Callable[[], AbstractAsyncContextManager[Repositories]]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADDRESS = Address(street="1 Main St", city="Springfield", zip_code="12345", country="US")


def new_shipment(*, tracking_number: str | None = None) -> Shipment:
    return Shipment.create(
        uuid.uuid4(),
        ADDRESS,
        [StockLine(book_id=uuid.uuid4(), quantity=2)],
        served=ServedCountries.parse("US"),
        tracking_number=tracking_number or "TRK-" + uuid.uuid4().hex[:10].upper(),
        at=T0,
    )


def state(shipment: Shipment) -> tuple[object, ...]:
    """Everything a repository stores of a shipment."""
    s = shipment
    return (s.shipment_id, s.order_id, s.tracking_number, s.address, s.lines, s.status, s.version, s.history)


class ShipmentRepositoryContract:
    """The ShipmentRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_what_one_transaction_adds_the_next_reads_by_id_and_by_order(self, store: Store) -> None:
        shipment = new_shipment()
        async with store() as (shipments, _):
            await shipments.add(shipment)
        async with store() as (shipments, _):
            by_id = await shipments.get(shipment.shipment_id)
            by_order = await shipments.for_order(shipment.order_id)
        assert by_id is not None
        assert by_order is not None
        assert state(by_id) == state(by_order) == state(shipment)
        assert by_id.events == []  # recorded events go to the outbox, never into storage

    async def test_an_unknown_shipment_is_none(self, store: Store) -> None:
        async with store() as (shipments, _):
            assert await shipments.get(uuid.uuid4()) is None
            assert await shipments.for_order(uuid.uuid4()) is None
            assert shipments.seen == []

    async def test_a_taken_tracking_number_is_refused_and_the_transaction_goes_on(self, store: Store) -> None:
        first = new_shipment()
        second = new_shipment(tracking_number=first.tracking_number)
        third = new_shipment()
        async with store() as (shipments, _):
            await shipments.add(first)
            with pytest.raises(TrackingNumberTaken):
                await shipments.add(second)
            await shipments.add(third)
        async with store() as (shipments, _):
            assert await shipments.for_order(second.order_id) is None
            assert await shipments.get(third.shipment_id) is not None

    async def test_an_order_gets_one_shipment(self, store: Store) -> None:
        first = new_shipment()
        again = new_shipment()
        again.order_id = first.order_id
        async with store() as (shipments, _):
            await shipments.add(first)
        with pytest.raises(Exception):  # noqa: B017, PT011 - a unique constraint, whatever the driver calls it
            async with store() as (shipments, _):
                await shipments.add(again)
        async with store() as (shipments, _):
            stored = await shipments.for_order(first.order_id)
        assert stored is not None
        assert stored.shipment_id == first.shipment_id

    async def test_save_stores_status_version_and_history(self, store: Store) -> None:
        shipment = new_shipment()
        async with store() as (shipments, _):
            await shipments.add(shipment)
        async with store() as (shipments, _):
            loaded = await shipments.get(shipment.shipment_id)
            assert loaded is not None
            assert loaded.dispatch(T0 + timedelta(hours=1))
            await shipments.save(loaded)
        async with store() as (shipments, _):
            again = await shipments.get(shipment.shipment_id)
        assert again is not None
        assert state(again) == state(loaded)
        assert (again.status, again.version) == (ShipmentStatus.DISPATCHED, 2)

    async def test_it_remembers_each_shipment_it_handed_out_or_stored_once(self, store: Store) -> None:
        stored, added = new_shipment(), new_shipment()
        async with store() as (shipments, _):
            await shipments.add(stored)
        async with store() as (shipments, _):
            loaded = await shipments.get(stored.shipment_id)
            await shipments.add(added)
            assert shipments.seen == [loaded, added]


class RefusalRepositoryContract:
    """The RefusalRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_a_refusal_is_kept_and_the_first_one_wins(self, store: Store) -> None:
        order_id = uuid.uuid4()
        first = Refusal(order_id, RefusalKind.UNDELIVERABLE, "country XX is not served", T0)
        later = Refusal(order_id, RefusalKind.CANCELLED_BEFORE_CREATION, "cancelled", T0 + timedelta(hours=1))
        async with store() as (_, refusals):
            assert await refusals.get(order_id) is None
            await refusals.add(first)
        async with store() as (_, refusals):
            await refusals.add(later)
        async with store() as (_, refusals):
            assert await refusals.get(order_id) == first


class ShippingRepositoriesContract(ShipmentRepositoryContract, RefusalRepositoryContract):
    """Both ports, for one implementation; subclasses named ``Test...`` provide ``store``."""
