"""The Book aggregate: rules of docs/domain.md, events and versions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from bookshelf_catalog.domain.exceptions import InvalidBook
from bookshelf_catalog.domain.model import Book
from bookshelf_contracts import BookAdded, BookDetailsUpdated, BookPriceUpdated, Currency, Genre, Money
from bookshelf_contracts.testing import usd


def valid(**overrides: Any) -> dict[str, Any]:
    return {"title": "  Dune ", "author": "Frank Herbert", "price": usd("9.99"), **overrides}


def errors_of(fields: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidBook) as caught:
        Book.add(fields)
    return dict(caught.value.errors)


def test_add_trims_normalises_and_records_book_added_with_full_state() -> None:
    book = Book.add(valid(isbn="0-306-40615-2", genre="fiction", tags=[" sf "], page_count=412))
    assert (book.title, book.isbn, book.genre, book.tags, book.version) == (
        "Dune",
        "9780306406157",
        Genre.FICTION,
        ["sf"],
        1,
    )
    assert book.in_print is True
    [event] = book.events
    assert isinstance(event, BookAdded)
    assert event.version == 1
    assert event.title == "Dune"
    # The event is a valid contract (the aggregate builds it without re-validation).
    assert BookAdded.model_validate(event.model_dump()) == event


def test_every_broken_rule_is_named() -> None:
    errors = errors_of(
        {
            "title": " ",
            "author": "a" * 151,
            "price": usd("0"),
            "isbn": "123",
            "description": "x" * 5001,
            "genre": "POETRY",
            "page_count": 0,
        }
    )
    assert set(errors) == {"title", "author", "price.amount", "isbn", "description", "genre", "page_count"}
    assert "must be > 0" in errors["price.amount"]


def test_required_fields() -> None:
    assert errors_of({}) == {"title": "is required", "author": "is required", "price": "is required"}


@pytest.mark.parametrize(
    ("tags", "field"),
    [(["t"] * 21, "tags"), (["ok", "x" * 51], "tags[1]"), (["ok", " "], "tags[1]")],
)
def test_tag_rules(tags: list[str], field: str) -> None:
    assert field in errors_of(valid(tags=tags))


def test_limits_are_inclusive() -> None:
    book = Book.add(
        valid(
            title="t" * 200,
            author="a" * 150,
            description="d" * 5000,
            tags=["x" * 50] * 20,
            page_count=100_000,
        )
    )
    assert book.page_count == 100_000
    assert "page_count" in errors_of(valid(page_count=100_001))


def test_price_change_records_old_and_new_price_and_bumps_the_version() -> None:
    book = Book.add(valid())
    book.events.clear()
    [event] = book.update({"price": usd("12.50")})
    assert isinstance(event, BookPriceUpdated)
    assert (event.old_price, event.new_price, event.version, book.version) == (
        usd("9.99"),
        usd("12.50"),
        2,
        2,
    )


def test_details_change_records_full_state() -> None:
    book = Book.add(valid())
    [event] = book.update(
        {"title": "Dune Messiah", "publication_date": date(1969, 1, 1), "description": None}
    )
    assert isinstance(event, BookDetailsUpdated)
    assert event.title == "Dune Messiah"
    assert event.price == usd("9.99")
    assert event.version == 2
    assert BookDetailsUpdated.model_validate(event.model_dump()) == event


def test_price_and_details_together_record_both_with_consecutive_versions() -> None:
    book = Book.add(valid())
    events = book.update({"price": Money(amount=Decimal("5"), currency=Currency.EUR), "in_print": False})
    assert [type(e) for e in events] == [BookPriceUpdated, BookDetailsUpdated]
    assert [e.version for e in events] == [2, 3]  # type: ignore[attr-defined]
    assert book.version == 3
    assert book.events[-2:] == events


def test_update_without_real_change_records_nothing() -> None:
    book = Book.add(valid(tags=["a"]))
    assert book.update({"price": usd("9.99"), "title": "Dune", "tags": ["a"]}) == []
    assert book.version == 1


def test_update_rejects_bad_values_null_required_fields_and_isbn() -> None:
    book = Book.add(valid())
    with pytest.raises(InvalidBook) as caught:
        book.update({"title": None, "page_count": -1, "isbn": "9780306406157"})
    assert dict(caught.value.errors) == {
        "isbn": "cannot be changed",
    }
    with pytest.raises(InvalidBook) as caught:
        book.update({"title": None, "page_count": -1})
    assert set(dict(caught.value.errors)) == {"title", "page_count"}
    assert book.version == 1
