"""Cancellation reasons: the saga's short lines become readable text that fits 1000 characters."""

from __future__ import annotations

import uuid

from bookshelf_contracts import OrderCancelled, ShortLine
from bookshelf_ordering.domain.reasons import cancellation_reason


def test_without_short_lines_the_reason_is_kept() -> None:
    assert cancellation_reason("  shipment failed: country XX  ") == "shipment failed: country XX"


def test_short_lines_are_listed_in_the_reason() -> None:
    book = uuid.uuid4()
    text = cancellation_reason("out of stock", [ShortLine(book_id=book, requested=3, available=1)])
    assert text == f"out of stock: book {book} requested 3, available 1"


def test_many_short_lines_are_cut_to_fit_and_counted() -> None:
    lines = [ShortLine(book_id=uuid.uuid4(), requested=5, available=0) for _ in range(50)]
    text = cancellation_reason("out of stock", lines)
    assert len(text) <= 1000
    assert text.startswith("out of stock: book ")
    assert text.endswith("more short line(s)")
    shown = text.count("requested 5")
    assert f"and {50 - shown} more" in text
    OrderCancelled(
        order_id=uuid.uuid4(), reason=text, previous_status="PENDING", version=2
    )  # fits the contract


def test_a_huge_reason_is_cut_to_1000_characters() -> None:
    line = ShortLine(book_id=uuid.uuid4(), requested=2, available=1)
    assert len(cancellation_reason("x" * 5000)) == 1000
    assert len(cancellation_reason("x" * 5000, [line])) == 1000
