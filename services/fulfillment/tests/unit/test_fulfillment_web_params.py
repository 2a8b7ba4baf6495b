"""The web view's query parsing, property-based: any text is a bounded value or a ValueError (a 422).

The worker serves no OpenAPI document, so Schemathesis cannot reach it (tests/contract); these
properties cover the same ground for its free-form inputs, ``limit``, ``offset`` and ``deadline_before``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bookshelf_fulfillment.entrypoints.web import MAX_LIMIT, MAX_OFFSET, _int_param, _time_param
from hypothesis import given, settings
from hypothesis import strategies as st

ANY_TEXT = st.text(max_size=40) | st.integers().map(str) | st.just("9" * 5000)


@settings(max_examples=200, deadline=None, database=None)
@given(raw=ANY_TEXT)
def test_limit_is_an_int_in_range_or_a_value_error(raw: str) -> None:
    request: Any = SimpleNamespace(query={"limit": raw})
    try:
        value = _int_param(request, "limit", 20, 1, MAX_LIMIT)
    except ValueError:
        return
    assert 1 <= value <= MAX_LIMIT


@settings(max_examples=100, deadline=None, database=None)
@given(raw=ANY_TEXT)
def test_offset_is_bounded_or_a_value_error(raw: str) -> None:
    request: Any = SimpleNamespace(query={"offset": raw})
    try:
        value = _int_param(request, "offset", 0, 0, MAX_OFFSET)
    except ValueError:
        return
    assert 0 <= value <= MAX_OFFSET


@settings(max_examples=200, deadline=None, database=None)
@given(raw=ANY_TEXT)
def test_deadline_before_is_an_aware_time_or_a_value_error(raw: str) -> None:
    request: Any = SimpleNamespace(query={"deadline_before": raw})
    try:
        value = _time_param(request, "deadline_before")
    except ValueError:
        return
    assert value is None or value.tzinfo is not None


def test_deadline_before_takes_z_offsets_and_naive_utc() -> None:
    for raw in ("2026-01-02T03:04:05Z", "2026-01-02T04:04:05+01:00", "2026-01-02T03:04:05"):
        value = _time_param(SimpleNamespace(query={"deadline_before": raw}), "deadline_before")  # type: ignore[arg-type]
        assert value is not None
        assert value.timestamp() == 1767323045.0
