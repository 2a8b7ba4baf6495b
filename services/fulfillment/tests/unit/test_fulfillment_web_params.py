"""The web view's query parsing, property-based: any text is a bounded int or a ValueError (a 422).

The worker serves no OpenAPI document, so Schemathesis cannot reach it (tests/contract); these
properties cover the same ground for its only free-form inputs, ``limit`` and ``offset``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bookshelf_fulfillment.entrypoints.web import MAX_LIMIT, _int_param, page
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
@given(limit=st.integers(1, MAX_LIMIT), offset=st.integers(0, 10**30))
def test_any_page_of_an_empty_worker_is_a_valid_envelope(limit: int, offset: int) -> None:
    worker: Any = SimpleNamespace(store=SimpleNamespace(items=lambda: []))
    body = page(worker, None, limit, offset)
    assert body["entries"] == []
    assert (body["total"], body["has_next"], body["has_prev"]) == (0, False, offset > 0)
    assert body["page"] == offset // limit + 1
