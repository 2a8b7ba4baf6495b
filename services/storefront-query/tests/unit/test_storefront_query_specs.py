"""Query specs (sort keys, filters, LIKE escaping, when to count), read-model names, table generations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bookshelf_storefront.adapters.tables import LIVE, parse_physical, physical
from bookshelf_storefront.domain.queries import (
    REPORT_DEFAULT_SORT,
    REPORT_SORTS,
    STOREFRONT_DEFAULT_SORT,
    STOREFRONT_SORTS,
    InvalidQuery,
    Sort,
    StorefrontFilter,
    clean_text,
    known_total,
    like_pattern,
    parse_sort,
    uses_grams,
)
from bookshelf_storefront.domain.read_models import READ_MODELS, REPORTS, UnknownReadModel, resolve


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Sort("title")),
        ("", Sort("title")),
        ("price", Sort("price")),
        ("-price", Sort("price", True)),
        ("+author", Sort("author")),
        (" -updated_at ", Sort("updated_at", True)),
    ],
)
def test_storefront_sort_keys(raw: str | None, expected: Sort) -> None:
    assert parse_sort(raw, STOREFRONT_SORTS, STOREFRONT_DEFAULT_SORT) == expected


@pytest.mark.parametrize("raw", ["rating", "-", "--price", "Price", "title,price"])
def test_unknown_sort_keys_name_the_field_and_the_allowed_keys(raw: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_sort(raw, STOREFRONT_SORTS, STOREFRONT_DEFAULT_SORT)
    ((field, message),) = caught.value.errors
    assert field == "sort"
    assert "title, author, price, available, updated_at" in message


def test_report_sort_defaults_to_most_sold() -> None:
    assert parse_sort(None, REPORT_SORTS, REPORT_DEFAULT_SORT) == Sort("units_sold", True)


def test_like_pattern_matches_specials_literally() -> None:
    assert like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


def test_trigram_index_needs_three_characters() -> None:
    assert (uses_grams("ab"), uses_grams("abc")) == (False, True)


def test_blank_text_filters_nothing() -> None:
    assert (clean_text(None), clean_text("  "), clean_text(" Ann ")) == (None, None, "Ann")


def test_min_price_above_max_price_is_rejected() -> None:
    with pytest.raises(InvalidQuery, match="greater than max_price"):
        StorefrontFilter(min_price=Decimal("10"), max_price=Decimal("5"))
    assert StorefrontFilter(min_price=Decimal("5"), max_price=Decimal("5")).max_price == Decimal("5")


@pytest.mark.parametrize(
    ("offset", "limit", "returned", "total"),
    [(0, 20, 0, 0), (0, 20, 7, 7), (40, 20, 3, 43), (0, 20, 20, None), (40, 20, 0, None)],
)
def test_total_is_counted_only_when_the_page_does_not_prove_it(
    offset: int, limit: int, returned: int, total: int | None
) -> None:
    assert known_total(offset, limit, returned) == total


def test_read_model_names() -> None:
    assert [m.name for m in resolve("all")] == ["storefront", "catalog", "reports", "tracking"]
    assert resolve(" Reports ") == [REPORTS]
    with pytest.raises(UnknownReadModel, match="storefront, catalog, reports, tracking, all"):
        resolve("orders")


def test_generation_tables() -> None:
    assert physical("book_report", 3) == "book_report_g3"
    assert parse_physical("book_report_g3") == ("book_report", 3)
    assert parse_physical("book_report") is None
    tables = LIVE.with_generation(READ_MODELS["reports"], 4)
    assert (tables.book_report, tables.report_orders, tables.storefront_view) == (
        "book_report_g4",
        "report_orders_g4",
        "storefront_view",
    )


def test_which_filters_use_the_remembered_total() -> None:
    assert StorefrontFilter().only_visibility
    assert not StorefrontFilter(genre="FICTION").only_visibility
    assert StorefrontFilter(in_stock=True).only_in_stock
    assert not StorefrontFilter(in_stock=True, q="abc").only_in_stock
    assert not StorefrontFilter(in_stock=False).only_in_stock


def test_contains_filters_of_three_characters_search() -> None:
    assert StorefrontFilter(q="riv").searches
    assert StorefrontFilter(author_contains="smith", genre="FICTION").searches
    assert not StorefrontFilter(q="ri").searches
    assert not StorefrontFilter(author="smith").searches
