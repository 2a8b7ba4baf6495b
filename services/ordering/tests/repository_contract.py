"""The contract of ordering's repository ports, one abstract test class per port (docs/style.md, "Tests"):
run against the fakes in tests/unit and the SQL adapters in tests/integration. ``store()`` opens one
transaction and yields its repositories; what one transaction stored, the next one reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from bookshelf_contracts import Address, Customer
from bookshelf_contracts.testing import usd
from bookshelf_ordering.domain.model import Order, OrderStatus
from bookshelf_ordering.domain.placement import CatalogEntry, ReplicaUpdate, RequestedLine
from bookshelf_ordering.service_layer.unit_of_work import CatalogReplica, OrderRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Repositories(NamedTuple):
    orders: OrderRepository
    books: CatalogReplica


Store = Callable[[], AbstractAsyncContextManager[Repositories]]


def new_order() -> Order:
    book = CatalogEntry(uuid.uuid4(), "Dune", usd("12.99"))
    return Order.place(
        order_id=uuid.uuid4(),
        customer=Customer(name="Ada Lovelace", email="ada@example.com"),
        shipping_address=Address(street="1 Main St", city="Springfield", zip_code="12345"),
        items=[RequestedLine(book.book_id, 2)],
        catalog={book.book_id: book},
        now=T0,
    )


def state(order: Order) -> tuple[object, ...]:
    """Everything a repository stores of an order."""
    o = order
    return (
        o.order_id,
        o.customer,
        o.shipping_address,
        o.lines,
        o.status,
        o.version,
        o.history,
        o.tracking_number,
        o.cancellation_reason,
    )


class OrderRepositoryContract:
    """The OrderRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_what_one_transaction_adds_the_next_reads(self, store: Store) -> None:
        order = new_order()
        async with store() as repos:
            await repos.orders.add(order, access_token_hash="hash")
        async with store() as repos:
            found = await repos.orders.get_for_update(order.order_id)
            assert await repos.orders.get_for_update(uuid.uuid4()) is None
        assert found is not None
        assert state(found) == state(order)

    async def test_save_stores_a_transition(self, store: Store) -> None:
        order = new_order()
        async with store() as repos:
            await repos.orders.add(order)
        async with store() as repos:
            loaded = await repos.orders.get_for_update(order.order_id)
            assert loaded is not None
            assert loaded.confirm(T0 + timedelta(minutes=1))
            assert loaded.ship("TRK-AB12CD34EF", T0 + timedelta(minutes=2))
            await repos.orders.save(loaded)
        async with store() as repos:
            again = await repos.orders.get_for_update(order.order_id)
        assert again is not None
        assert state(again) == state(loaded)
        assert (again.status, again.version) == (OrderStatus.SHIPPED, 3)


class CatalogReplicaContract:
    """The CatalogReplica port: each part of a book (title, price) only moves forward by version."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_a_book_is_orderable_once_its_title_is_known(self, store: Store) -> None:
        book = uuid.uuid4()
        async with store() as repos:
            await repos.books.apply_price(book, usd("9.99"), 2)
            assert await repos.books.get_many([book]) == {}
        async with store() as repos:
            await repos.books.apply_book(book, "Dune", usd("12.99"), 1)
        async with store() as repos:
            assert await repos.books.get_many([book, uuid.uuid4()]) == {
                book: CatalogEntry(book, "Dune", usd("9.99"))
            }

    async def test_old_updates_never_regress_a_book(self, store: Store) -> None:
        book = uuid.uuid4()
        async with store() as repos:
            await repos.books.apply_many(
                [
                    ReplicaUpdate(book, "Dune II", 3, usd("20.00"), 3),
                    ReplicaUpdate(book, "Dune", 1, usd("12.99"), 1),
                    ReplicaUpdate(book, None, 0, usd("15.00"), 2),
                ]
            )
            await repos.books.apply_book(book, "Dune", usd("12.99"), 2)
        async with store() as repos:
            assert await repos.books.get_many([book]) == {book: CatalogEntry(book, "Dune II", usd("20.00"))}


class OrderingRepositoriesContract(OrderRepositoryContract, CatalogReplicaContract):
    """Both ports, for one implementation; subclasses named ``Test...`` provide ``store``."""
