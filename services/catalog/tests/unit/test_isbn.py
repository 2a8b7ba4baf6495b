"""ISBN check digits and ISBN-10 -> ISBN-13."""

from __future__ import annotations

import pytest
from bookshelf_catalog.domain.isbn import isbn13_check_digit, normalize_isbn


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("9780306406157", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("0-306-40615-2", "9780306406157"),
        ("080442957X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("0 441 01359 7", "9780441013593"),
    ],
)
def test_valid_isbns_are_stored_as_isbn13_digits(given: str, stored: str) -> None:
    assert normalize_isbn(given) == stored


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("9780306406158", "check digit"),
        ("0306406153", "ISBN-10"),
        ("12345", "neither"),
        ("97803064061X7", "neither"),
        ("X306406152", "ISBN-10"),
    ],
)
def test_invalid_isbns_are_rejected_with_the_reason(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_isbn(given)


def test_isbn13_check_digit() -> None:
    assert isbn13_check_digit("978030640615") == "7"
