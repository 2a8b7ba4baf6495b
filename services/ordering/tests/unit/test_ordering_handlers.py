"""Handlers with a fake unit of work: placement, idempotency, customer cancel, the saga's commands."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from bookshelf_contracts import (
    Address,
    CancelOrder,
    ConfirmOrder,
    Customer,
    Event,
    MarkOrderDelivered,
    MarkOrderShipped,
    OrderCancellationRequested,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    ShortLine,
)
from bookshelf_ordering.domain.exceptions import InvalidOrder, OrderNotFound, TransitionNotAllowed
from bookshelf_ordering.domain.model import OrderStatus
from bookshelf_ordering.domain.placement import CatalogEntry, RequestedLine
from bookshelf_ordering.service_layer import handlers
from bookshelf_ordering.service_layer.access import OrderTokens
from bookshelf_ordering.service_layer.handlers import COMMANDS_REJECTED, PlaceOrder
from bookshelf_servicekit.auth import token_hash
from bookshelf_servicekit.idempotency import (
    IdempotencyKeyReused,
    IdempotencyRequest,
)
from bookshelf_servicekit.testing import InMemoryIdempotencyRepository

from ..fakes import FakeOrders, FakeReplica


class FakeUnitOfWork:
    """Repositories in dicts; ``published`` collects what commit would hand to the outbox."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self.orders = FakeOrders()
        self.books = FakeReplica(entries)
        self.idempotency = InMemoryIdempotencyRepository()
        self.published: list[Event] = []
        self.commits = 0

    def now(self) -> datetime:
        return datetime(2024, 11, 26, 12, 0, tzinfo=UTC)

    async def commit(self) -> None:
        for order in self.orders.seen:
            self.published.extend(order.pull_events())
        self.orders.seen.clear()
        self.commits += 1


@pytest.fixture
def uow(ordering_books: dict[str, CatalogEntry]) -> FakeUnitOfWork:
    return FakeUnitOfWork(ordering_books.values())


def place_command(books: dict[str, CatalogEntry], *names: str) -> PlaceOrder:
    return PlaceOrder(
        customer=Customer(name="Ada", email="ada@example.com"),
        shipping_address=Address(street="1 Main St", city="Springfield", zip_code="12345"),
        items=tuple(RequestedLine(books[name].book_id, 1) for name in names),
    )


TOKENS = OrderTokens(b"unit-test-secret")


def key(name: str, body: bytes = b"{}") -> IdempotencyRequest:
    return IdempotencyRequest.of(name, "POST", "/orders", body)


async def placed(uow: FakeUnitOfWork, books: dict[str, CatalogEntry]) -> uuid.UUID:
    answer = await handlers.place_order(place_command(books, "dune"), uow, tokens=TOKENS)
    uow.published.clear()
    return uuid.UUID(answer.body["order_id"])


async def test_place_order_stores_the_order_and_publishes_order_placed(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    answer = await handlers.place_order(place_command(ordering_books, "dune", "emma"), uow, tokens=TOKENS)
    assert answer.status_code == 201
    assert answer.body["status"] == "PENDING"
    assert answer.body["total"] == {"amount": "18.49", "currency": "USD"}
    (event,) = uow.published
    assert isinstance(event, OrderPlaced)
    assert str(event.order_id) == answer.body["order_id"]
    assert uuid.UUID(answer.body["order_id"]) in uow.orders.rows


async def test_the_answer_carries_an_access_token_and_only_its_hash_is_stored(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    answer = await handlers.place_order(place_command(ordering_books, "dune"), uow, key("t1"), tokens=TOKENS)
    order_id = uuid.UUID(answer.body["order_id"])
    token = answer.body["access_token"]
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128
    assert uow.orders.token_hashes[order_id] == token_hash(token) != token
    # The stored idempotent answer holds no token; the replay derives the same one again.
    stored = uow.idempotency.rows["t1"][2]
    assert "access_token" not in stored
    assert token not in str(stored)
    again = await handlers.place_order(place_command(ordering_books, "dune"), uow, key("t1"), tokens=TOKENS)
    assert again.replayed
    assert again.body["access_token"] == token
    other = await handlers.place_order(place_command(ordering_books, "dune"), uow, tokens=TOKENS)
    assert other.body["access_token"] != token
    assert OrderTokens(b"another-secret").token_for(order_id) != token


async def test_unknown_book_stores_nothing(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    command = place_command(ordering_books, "dune")
    command = PlaceOrder(command.customer, command.shipping_address, (RequestedLine(uuid.uuid4(), 1),))
    with pytest.raises(InvalidOrder, match=r"items\[0\].book_id"):
        await handlers.place_order(command, uow, tokens=TOKENS)
    assert uow.orders.rows == {}
    assert uow.published == []


async def test_same_idempotency_key_answers_the_first_response(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    first = await handlers.place_order(place_command(ordering_books, "dune"), uow, key("k1"), tokens=TOKENS)
    again = await handlers.place_order(place_command(ordering_books, "dune"), uow, key("k1"), tokens=TOKENS)
    assert again.replayed
    assert (again.status_code, again.body) == (first.status_code, first.body)
    assert len(uow.orders.rows) == 1
    assert len(uow.published) == 1


async def test_same_idempotency_key_with_another_body_is_refused(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    await handlers.place_order(place_command(ordering_books, "dune"), uow, key("k2", b"a"), tokens=TOKENS)
    with pytest.raises(IdempotencyKeyReused):
        await handlers.place_order(place_command(ordering_books, "emma"), uow, key("k2", b"b"), tokens=TOKENS)
    assert len(uow.orders.rows) == 1


async def test_customer_cancel_is_a_request_published_once(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    body = await handlers.cancel_by_customer(order_id, uow)
    again = await handlers.cancel_by_customer(order_id, uow)
    assert body["status"] == again["status"] == "PENDING"  # the saga decides
    assert body["cancellation_reason"] is None
    assert body["history"][-1]["reason"] == "cancellation requested (customer request)"
    assert again["history"] == body["history"]
    (event,) = uow.published
    assert isinstance(event, OrderCancellationRequested)
    assert (event.reason, event.version) == ("customer request", 2)


async def test_the_saga_answers_a_request_with_cancel_order(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    await handlers.cancel_by_customer(order_id, uow)
    await handlers.cancel_order(CancelOrder(order_id=order_id, reason="customer request"), uow)
    assert uow.orders.rows[order_id].status is OrderStatus.CANCELLED
    assert (await handlers.cancel_by_customer(order_id, uow))["status"] == "CANCELLED"  # no-op
    assert [type(e).__name__ for e in uow.published] == ["OrderCancellationRequested", "OrderCancelled"]


async def test_a_request_answered_by_shipping_records_the_refusal(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    await handlers.confirm_order(ConfirmOrder(order_id=order_id), uow)
    await handlers.cancel_by_customer(order_id, uow)
    await handlers.mark_order_shipped(
        MarkOrderShipped(order_id=order_id, tracking_number="TRK-0123456789"), uow
    )
    order = uow.orders.rows[order_id]
    assert order.status is OrderStatus.SHIPPED
    assert [(e.status.value, e.reason) for e in order.history][-3:] == [
        ("CONFIRMED", "cancellation requested (customer request)"),
        ("SHIPPED", "shipped with tracking number TRK-0123456789"),
        ("SHIPPED", "cancellation refused: already dispatched"),
    ]


async def test_customer_cancel_of_a_shipped_order_is_a_conflict(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    await handlers.confirm_order(ConfirmOrder(order_id=order_id), uow)
    await handlers.mark_order_shipped(
        MarkOrderShipped(order_id=order_id, tracking_number="TRK-0123456789"), uow
    )
    with pytest.raises(TransitionNotAllowed, match="SHIPPED"):
        await handlers.cancel_by_customer(order_id, uow)


async def test_customer_cancel_of_an_unknown_order(uow: FakeUnitOfWork) -> None:
    with pytest.raises(OrderNotFound):
        await handlers.cancel_by_customer(uuid.uuid4(), uow)


async def test_saga_commands_walk_the_order_to_delivered(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    await handlers.confirm_order(ConfirmOrder(order_id=order_id), uow)
    await handlers.mark_order_shipped(
        MarkOrderShipped(order_id=order_id, tracking_number="TRK-0123456789"), uow
    )
    await handlers.mark_order_delivered(MarkOrderDelivered(order_id=order_id), uow)
    assert [type(e).__name__ for e in uow.published] == ["OrderConfirmed", "OrderShipped", "OrderDelivered"]
    assert [e.version for e in uow.published] == [2, 3, 4]  # type: ignore[attr-defined]
    assert uow.orders.rows[order_id].status is OrderStatus.DELIVERED


async def test_a_repeated_command_has_no_second_event(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    await handlers.confirm_order(ConfirmOrder(order_id=order_id), uow)
    await handlers.confirm_order(ConfirmOrder(order_id=order_id), uow)
    assert [type(e) for e in uow.published] == [OrderConfirmed]


async def test_a_forbidden_command_is_acknowledged_counted_and_changes_nothing(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    await handlers.cancel_order(CancelOrder(order_id=order_id, reason="timed out"), uow)
    uow.published.clear()
    counter: Any = COMMANDS_REJECTED.labels("MarkOrderShipped", "CANCELLED")
    before = counter._value.get()
    # must not raise: a raise would retry the message and dead-letter it
    await handlers.mark_order_shipped(
        MarkOrderShipped(order_id=order_id, tracking_number="TRK-0123456789"), uow
    )
    assert counter._value.get() == before + 1
    assert uow.published == []
    assert uow.orders.rows[order_id].status is OrderStatus.CANCELLED


async def test_saga_cancel_stores_short_lines_in_the_reason(
    uow: FakeUnitOfWork, ordering_books: dict[str, CatalogEntry]
) -> None:
    order_id = await placed(uow, ordering_books)
    book = ordering_books["dune"].book_id
    short = [ShortLine(book_id=book, requested=1, available=0)]
    await handlers.cancel_order(CancelOrder(order_id=order_id, reason="out of stock", short_lines=short), uow)
    expected = f"out of stock: book {book} requested 1, available 0"
    assert uow.orders.rows[order_id].cancellation_reason == expected
    (event,) = uow.published
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.previous_status) == (expected, "PENDING")


async def test_a_command_for_an_unknown_order_raises_not_found(uow: FakeUnitOfWork) -> None:
    with pytest.raises(OrderNotFound):
        await handlers.confirm_order(ConfirmOrder(order_id=uuid.uuid4()), uow)
