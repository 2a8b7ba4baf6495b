"""A few real rows per service, so generated requests also reach the code behind existing ids.

Each seed writes through the service's own API or its handlers (what its consumers would do) and
returns the ids it made, by path parameter name (``{"book_id": [...]}``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from bookshelf_contracts import Address, BookAdded, CreateShipment, Currency, Money, StockLine
from bookshelf_inventory.adapters.unit_of_work import transaction as inventory_transaction
from bookshelf_inventory.service_layer.handlers import add_inventory
from bookshelf_ordering.adapters.unit_of_work import SqlUnitOfWork as OrderingUnitOfWork
from bookshelf_ordering.entrypoints.deps import STATE_KEY as ORDERING_STATE
from bookshelf_shipping.adapters.unit_of_work import transaction as shipping_transaction
from bookshelf_shipping.entrypoints.deps import STATE_KEY as SHIPPING_STATE
from bookshelf_shipping.service_layer.handlers import handle as handle_shipping

from tests.contract.harness import STAFF, RunningService

Ids = dict[str, list[str]]
ADDRESS = {"street": "1 Main St", "city": "Springfield", "zip_code": "12345", "country": "US"}
PRICE = Money(amount=Decimal("12.99"), currency=Currency.USD)


def seed_catalog(service: RunningService) -> Ids:
    """Two books through POST /books."""
    ids = []
    for title in ("Dune", "Solaris"):
        body = {"title": title, "author": "Someone", "price": {"amount": "9.99", "currency": "USD"}}
        response = service.call("POST", "/books", json=body, headers=STAFF)
        assert response.status_code == 201, response.text
        ids.append(response.json()["book_id"])
    return {"book_id": ids}


def seed_ordering(service: RunningService) -> Ids:
    """A book in the catalog replica, then one order for it through POST /orders."""
    deps = getattr(service.app.state, ORDERING_STATE)
    book_id = uuid.uuid4()

    async def add_book() -> None:
        async with deps.session_factory() as session, session.begin():
            unit = OrderingUnitOfWork(session, deps.outbox, owns_transaction=False)
            await unit.books.apply_book(book_id, "Dune", PRICE, 1)

    service.loop.run(add_book())
    order = {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipping_address": ADDRESS,
        "items": [{"book_id": str(book_id), "quantity": 2}],
    }
    response = service.call("POST", "/orders", json=order)
    assert response.status_code == 201, response.text
    return {"order_id": [response.json()["order_id"]], "book_id": [str(book_id)]}


def seed_inventory(service: RunningService) -> Ids:
    """Two stock records, as the BookAdded consumer creates them."""
    services = service.app.state.inventory
    ids = [uuid.uuid4(), uuid.uuid4()]

    async def add() -> None:
        for number, book_id in enumerate(ids):
            event = BookAdded(book_id=book_id, title=f"Book {number}", author="A", price=PRICE, version=1)
            async with inventory_transaction(services.session_factory, services.outbox) as uow:
                await add_inventory(event, uow, initial_stock=5)

    service.loop.run(add())
    return {"book_id": [str(i) for i in ids]}


def seed_shipping(service: RunningService) -> Ids:
    """A CREATED shipment, as the CreateShipment command makes it."""
    runtime = getattr(service.app.state, SHIPPING_STATE)
    order_id = uuid.uuid4()
    command = CreateShipment(
        order_id=order_id,
        address=Address.model_validate(ADDRESS),
        lines=[StockLine(book_id=uuid.uuid4(), quantity=1)],
    )

    async def create() -> None:
        async with shipping_transaction(runtime.session_factory, runtime.outbox) as uow:
            await handle_shipping(command, uow, runtime.deps)

    service.loop.run(create())
    listed = service.call("GET", "/shipments", params={"order_id": str(order_id)}, headers=STAFF).json()
    return {"shipment_id": [e["shipment_id"] for e in listed["entries"]], "order_id": [str(order_id)]}


SEEDS: dict[str, Callable[[RunningService], Ids]] = {
    "catalog": seed_catalog,
    "ordering": seed_ordering,
    "inventory": seed_inventory,
    "shipping": seed_shipping,
}
