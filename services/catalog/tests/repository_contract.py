"""The contract of the catalog's repository ports, one abstract test class per port (docs/style.md, "Tests"):
run against the fakes in tests/unit and the SQL adapters in tests/integration. ``store()`` opens one
transaction and yields its repositories; what one transaction stored, the next one reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import pytest
from bookshelf_catalog.domain.exceptions import DuplicateIsbn
from bookshelf_catalog.domain.model import Book
from bookshelf_catalog.service_layer.repositories import BookRepository, SupplierPayloadRepository
from bookshelf_contracts.testing import usd

Repositories = tuple[BookRepository, SupplierPayloadRepository]
Store = Callable[[], AbstractAsyncContextManager[Repositories]]


def isbn13() -> str:
    """A fresh valid ISBN-13."""
    digits = [9, 7, 8] + [int(d) for d in str(uuid.uuid4().int)[:9]]
    check = (10 - sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def new_book(isbn: str | None = None) -> Book:
    return Book.add(
        {"title": "Dune", "author": "Frank Herbert", "price": usd("9.99"), "isbn": isbn or isbn13()}
    )


def state(book: Book) -> dict[str, object]:
    """What a repository stores of a book (``state()`` plus ISBN and version)."""
    return book.state()


class BookRepositoryContract:
    """The BookRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_what_one_transaction_adds_the_next_reads(self, store: Store) -> None:
        book = new_book()
        async with store() as (books, _):
            await books.add(book)
        async with store() as (books, _):
            found = await books.get_for_update(book.book_id)
        assert found is not None
        assert state(found) == state(book)

    async def test_an_unknown_book_is_none(self, store: Store) -> None:
        async with store() as (books, _):
            assert await books.get_for_update(uuid.uuid4()) is None
            assert books.seen == []

    async def test_a_taken_isbn_is_refused_and_the_transaction_goes_on(self, store: Store) -> None:
        first = new_book()
        async with store() as (books, _):
            await books.add(first)
            with pytest.raises(DuplicateIsbn):
                await books.add(new_book(first.isbn))
            later = new_book()
            await books.add(later)
        async with store() as (books, _):
            assert await books.get_for_update(later.book_id) is not None
            assert await books.existing_isbns([first.isbn or "", isbn13()]) == {first.isbn}

    async def test_add_many_stores_the_books_whose_isbn_is_free(self, store: Store) -> None:
        taken = new_book()
        async with store() as (books, _):
            await books.add(taken)
        fresh, clash = new_book(), new_book(taken.isbn)
        async with store() as (books, _):
            stored = await books.add_many([fresh, clash])
            assert stored == [fresh]
            assert books.seen == [fresh]
        async with store() as (books, _):
            assert await books.get_for_update(clash.book_id) is None
            assert await books.get_for_update(fresh.book_id) is not None

    async def test_save_stores_the_changed_state(self, store: Store) -> None:
        book = new_book()
        async with store() as (books, _):
            await books.add(book)
        async with store() as (books, _):
            loaded = await books.get_for_update(book.book_id)
            assert loaded is not None
            loaded.update({"price": usd("12.50"), "title": "Dune Messiah"})
            await books.save(loaded)
        async with store() as (books, _):
            again = await books.get_for_update(book.book_id)
        assert again is not None
        assert (again.title, again.price, again.version) == ("Dune Messiah", usd("12.50"), 3)

    async def test_it_remembers_each_book_it_handed_out_or_stored(self, store: Store) -> None:
        stored, added = new_book(), new_book()
        async with store() as (books, _):
            await books.add(stored)
        async with store() as (books, _):
            loaded = await books.get_for_update(stored.book_id)
            await books.add(added)
            assert books.seen == [loaded, added]


class SupplierPayloadRepositoryContract:
    """The SupplierPayloadRepository port: the first payload of an id wins, later ones get its message."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_a_payload_is_stored_once_and_a_repeat_answers_its_message_id(self, store: Store) -> None:
        payload_id, message_id = uuid.uuid4(), uuid.uuid4()
        at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        async with store() as (_, payloads):
            assert await payloads.store(payload_id, "new_book_available", {"title": "Dune"}, at) is None
        async with store() as (_, payloads):
            assert await payloads.store(payload_id, "new_book_available", {"title": "Other"}, at) is None
            await payloads.set_message_id(payload_id, message_id)
        async with store() as (_, payloads):
            assert await payloads.store(payload_id, "new_book_available", {"title": "Dune"}, at) == message_id


class CatalogRepositoriesContract(BookRepositoryContract, SupplierPayloadRepositoryContract):
    """Both ports, for one implementation; subclasses named ``Test...`` provide ``store``."""
