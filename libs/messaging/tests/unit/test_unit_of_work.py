"""The shared unit of work and the handler(message, uow) contract: event collection order, outbox
hand-off, who commits, permanent errors (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from bookshelf_contracts import BookAdded, BookPriceUpdated, Money
from bookshelf_messaging import BatchHandler, PermanentError
from bookshelf_messaging.handlers import bind_handlers, in_unit_of_work
from bookshelf_messaging.unit_of_work import Recorder, SqlUnitOfWork


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def added(book_id: UUID) -> BookAdded:
    return BookAdded(book_id=book_id, title="Dune", author="Frank Herbert", price=usd("9.99"), version=1)


def repriced(book_id: UUID) -> BookPriceUpdated:
    return BookPriceUpdated(book_id=book_id, old_price=usd("9.99"), new_price=usd("7.99"), version=2)


@dataclass
class Aggregate:
    events: list[Any] = field(default_factory=list)


class Transaction:
    """``session.begin()``: commits on a clean exit, rolls back on an error."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def __aenter__(self) -> None:
        self.calls.append("begin")

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        self.calls.append("end: commit" if exc_type is None else "end: rollback")


class FakeSession:
    """Records what the unit of work asks of its session."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def commit(self) -> None:
        self.calls.append("commit")

    async def flush(self) -> None:
        self.calls.append("flush")

    async def rollback(self) -> None:
        self.calls.append("rollback")

    async def close(self) -> None:
        self.calls.append("close")

    def begin(self) -> Transaction:
        return Transaction(self.calls)

    async def __aenter__(self) -> FakeSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class FakeOutbox:
    """Records the rows the unit of work writes: (how, type, lane)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    async def add(self, session: Any, message: Any, *, lane: str = "primary") -> Any:
        self.rows.append(("one", message.TYPE, lane))
        return type("Envelope", (), {"message_id": uuid4()})()

    async def add_many(self, session: Any, messages: list[Any], *, lane: str = "primary") -> list[Any]:
        self.rows.extend(("many", m.TYPE, lane) for m in messages)
        return []


class BooksUnitOfWork(SqlUnitOfWork):
    """A service's subclass: its aggregates in the order their events go out."""

    def __init__(self, session: Any, outbox: Any, *, owns_transaction: bool) -> None:
        super().__init__(session, outbox, owns_transaction=owns_transaction)
        self.first: list[Aggregate] = []
        self.second: list[Aggregate] = []

    def seen(self) -> Iterable[Recorder]:
        return [*self.first, *self.second]


def unit(*, owns: bool) -> tuple[BooksUnitOfWork, FakeSession, FakeOutbox]:
    session, outbox = FakeSession(), FakeOutbox()
    return BooksUnitOfWork(session, outbox, owns_transaction=owns), session, outbox


async def test_events_are_collected_in_seen_order_then_announced_and_only_once() -> None:
    uow, _, _ = unit(owns=False)
    a, b = uuid4(), uuid4()
    uow.second.append(Aggregate([repriced(b)]))
    uow.first.append(Aggregate([added(a)]))
    uow.announce(added(b))
    assert [(e.TYPE, e.book_id) for e in uow.collect_events()] == [  # type: ignore[attr-defined]
        ("BookAdded", a),
        ("BookPriceUpdated", b),
        ("BookAdded", b),
    ]
    assert uow.collect_events() == []


async def test_a_joined_unit_writes_the_outbox_and_leaves_the_commit_to_the_owner() -> None:
    uow, session, outbox = unit(owns=False)
    uow.first.append(Aggregate([added(uuid4())]))
    await uow.commit()
    assert outbox.rows == [("one", "BookAdded", "primary")]
    assert session.calls == ["flush"]


async def test_an_owning_unit_commits_and_writes_many_events_in_bulk_on_its_lane() -> None:
    uow, session, outbox = unit(owns=True)
    uow.lane = "bulk"
    uow.first.extend(Aggregate([added(uuid4())]) for _ in range(5))
    await uow.commit()
    assert outbox.rows == [("many", "BookAdded", "bulk")] * 5
    assert session.calls == ["commit"]


async def test_begin_rolls_back_when_left_without_commit() -> None:
    session, outbox = FakeSession(), FakeOutbox()
    async with BooksUnitOfWork.begin(lambda: session, outbox) as uow:  # type: ignore[arg-type]
        assert uow.owns_transaction
        uow.first.append(Aggregate([added(uuid4())]))
    assert session.calls == ["rollback", "close"]
    assert outbox.rows == []


async def test_begin_commits_once_and_join_never_rolls_back() -> None:
    session, outbox = FakeSession(), FakeOutbox()
    async with BooksUnitOfWork.begin(lambda: session, outbox) as uow:  # type: ignore[arg-type]
        await uow.commit()
    assert session.calls == ["commit", "close"]
    joined = BooksUnitOfWork.join(FakeSession(), FakeOutbox())  # type: ignore[arg-type]
    assert not joined.owns_transaction
    await joined.rollback()
    assert joined.session.calls == []  # type: ignore[attr-defined]


async def test_a_table_keyed_by_contract_runs_each_handler_in_a_committed_unit_of_work() -> None:
    seen: list[tuple[str, BooksUnitOfWork]] = []

    async def on_added(message: BookAdded, uow: BooksUnitOfWork) -> None:
        seen.append((message.title, uow))
        uow.first.append(Aggregate([repriced(message.book_id)]))

    batch = BatchHandler(lambda batch, session: None)  # type: ignore[arg-type, return-value]
    session, outbox = FakeSession(), FakeOutbox()
    table = bind_handlers(
        {BookAdded: on_added, "BookPriceUpdated": batch},
        lambda s: BooksUnitOfWork.join(s, outbox),  # type: ignore[arg-type]
    )
    assert set(table) == {"BookAdded", "BookPriceUpdated"}
    assert table["BookPriceUpdated"] is batch
    await table["BookAdded"](added(uuid4()), None, session)  # type: ignore[operator]
    assert seen[0][0] == "Dune"
    assert seen[0][1].session is session
    assert outbox.rows == [("one", "BookPriceUpdated", "primary")]
    assert session.calls == ["flush"]


async def test_permanent_error_types_become_a_permanent_error_naming_the_cause() -> None:
    class UnknownThing(LookupError):
        pass

    async def failing(message: Any, uow: Any) -> None:
        raise UnknownThing("no order with id 7")

    handle = in_unit_of_work(failing, lambda s: None, (UnknownThing,))
    with pytest.raises(PermanentError) as raised:
        await handle(None, None, None)  # type: ignore[arg-type]
    assert str(raised.value) == "UnknownThing: no order with id 7"
    assert isinstance(raised.value.__cause__, UnknownThing)
    other = in_unit_of_work(failing, lambda s: None, ())
    with pytest.raises(UnknownThing):
        await other(None, None, None)  # type: ignore[arg-type]


async def test_in_transaction_writes_what_is_left_and_the_block_commits_or_rolls_back() -> None:
    session, outbox = FakeSession(), FakeOutbox()
    async with BooksUnitOfWork.in_transaction(lambda: session, outbox) as uow:  # type: ignore[arg-type]
        assert not uow.owns_transaction
        uow.first.append(Aggregate([added(uuid4())]))
    assert outbox.rows == [("one", "BookAdded", "primary")]
    assert session.calls == ["begin", "flush", "end: commit", "close"]
    failing, outbox = FakeSession(), FakeOutbox()

    async def refused() -> None:
        async with BooksUnitOfWork.in_transaction(lambda: failing, outbox) as uow:  # type: ignore[arg-type]
            uow.first.append(Aggregate([added(uuid4())]))
            raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await refused()
    assert outbox.rows == []
    assert failing.calls == ["begin", "end: rollback", "close"]
