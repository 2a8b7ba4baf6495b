"""SQL adapters against real PostgreSQL: tracking-number collisions, migration, one shipment per order."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from bookshelf_contracts import Address, CreateShipment, Envelope, StockLine
from bookshelf_messaging import Outbox, create_session_factory
from bookshelf_shipping.adapters.unit_of_work import transaction
from bookshelf_shipping.domain.rules import ServedCountries
from bookshelf_shipping.migrations import upgrade
from bookshelf_shipping.service_layer.handlers import ShippingDeps, handle
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import ShippingIT

ADDRESS = Address(street="3 Rue X", city="Paris", zip_code="75001", country="FR")


def create_cmd(order_id: uuid.UUID) -> CreateShipment:
    return CreateShipment(
        order_id=order_id, address=ADDRESS, lines=[StockLine(book_id=uuid.uuid4(), quantity=1)]
    )


def draws(*values: str) -> Callable[[], str]:
    source = iter(values)
    return lambda: next(source)


async def test_a_taken_tracking_number_is_drawn_again(shipping_it: ShippingIT) -> None:
    sessions = create_session_factory(shipping_it.components.engine)
    outbox = Outbox(service="shipping")
    taken = "TRK-" + uuid.uuid4().hex[:10].upper()
    fresh = "TRK-" + uuid.uuid4().hex[:10].upper()
    deps = ShippingDeps(served=ServedCountries.parse("FR"), new_tracking_number=draws(taken, taken, fresh))
    first, second = uuid.uuid4(), uuid.uuid4()
    async with transaction(sessions, outbox) as uow:
        await handle(create_cmd(first), uow, deps)
    async with transaction(sessions, outbox) as uow:
        # The collision happens inside this transaction; the savepoint keeps it usable.
        assert await handle(create_cmd(second), uow, deps) == "created"
    async with shipping_it.components.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT order_id, tracking_number FROM shipments WHERE order_id IN (:a, :b)"),
            {"a": first, "b": second},
        )
        numbers = {order_id: number for order_id, number in rows}
        announced = (
            await conn.execute(sa.text("SELECT value FROM outbox WHERE key = :k"), {"k": str(second)})
        ).scalars()
        created = [Envelope.from_json(value) for value in announced]
    assert numbers == {first: taken, second: fresh}
    assert [(e.type, e.data["tracking_number"]) for e in created] == [("ShipmentCreated", fresh)]


async def test_the_database_refuses_a_second_shipment_for_an_order(shipping_it: ShippingIT) -> None:
    sessions = create_session_factory(shipping_it.components.engine)
    order_id = uuid.uuid4()
    counter = itertools.count()
    deps = ShippingDeps(
        served=ServedCountries.parse("FR"),
        new_tracking_number=lambda: f"TRK-{uuid.uuid4().hex[:6].upper()}{next(counter):04d}",
        clock=lambda: datetime.now(UTC),
    )
    outbox = Outbox(service="shipping")
    # Two transactions racing for one order: the unique constraint lets one win; the loser raises
    # (the consumer runner retries it, and the retry answers the winner's shipment).
    results = await asyncio.gather(
        *(_create_in_own_transaction(sessions, outbox, deps, order_id) for _ in range(2)),
        return_exceptions=True,
    )
    outcomes = sorted(r if isinstance(r, str) else type(r).__name__ for r in results)
    assert outcomes in (["IntegrityError", "created"], ["created", "existing"])
    async with shipping_it.components.engine.connect() as conn:
        count = await conn.scalar(
            sa.text("SELECT count(*) FROM shipments WHERE order_id = :o"), {"o": order_id}
        )
    assert count == 1


async def _create_in_own_transaction(
    sessions: async_sessionmaker[AsyncSession], outbox: Outbox, deps: ShippingDeps, order_id: uuid.UUID
) -> object:
    async with transaction(sessions, outbox) as uow:
        return await handle(create_cmd(order_id), uow, deps)


async def test_the_migration_is_idempotent(shipping_it: ShippingIT) -> None:
    url = shipping_it.components.settings.database_url
    await asyncio.to_thread(upgrade, url)  # already at head: nothing to do, no error
    async with shipping_it.components.engine.connect() as conn:
        version = await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
        tables = set(
            (
                await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            ).scalars()
        )
    assert version == "0002"
    assert {"shipments", "shipment_refusals", "outbox", "inbox", "alembic_version"} <= tables
