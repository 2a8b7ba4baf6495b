"""The polling helper, unique names and the tier markers (no I/O)."""

from __future__ import annotations

import re

import pytest
from bookshelf_infra.testing import TestDatabase, eventually, unique_name


async def test_eventually_returns_the_first_truthy_value() -> None:
    calls: list[int] = []

    def check() -> int:
        calls.append(1)
        return len(calls) if len(calls) >= 3 else 0

    assert await eventually(check, timeout=1, interval=0.001) == 3


async def test_eventually_awaits_async_checks_and_retries_assertions() -> None:
    seen: list[int] = []

    async def check() -> str:
        seen.append(1)
        assert len(seen) > 2, "not yet"
        return "done"

    assert await eventually(check, timeout=1, interval=0.001) == "done"


async def test_eventually_times_out_naming_the_last_error() -> None:
    def check() -> bool:
        raise KeyError("order-42")

    with pytest.raises(
        AssertionError,
        match=r"order never shipped \(after 0.05 s and \d+ attempts; "
        r"last error: KeyError: 'order-42'\)",
    ) as info:
        await eventually(check, timeout=0.05, interval=0.01, message="order never shipped")
    assert isinstance(info.value.__cause__, KeyError)


async def test_eventually_times_out_naming_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"last value: \[\]"):
        await eventually(lambda: [], timeout=0.03, interval=0.01)


def test_unique_name_is_safe_for_topics_and_databases() -> None:
    names = {unique_name("orders") for _ in range(1000)}
    assert len(names) == 1000
    assert all(re.fullmatch(r"orders_[0-9a-f]{12}", n) for n in names)
    assert re.fullmatch(r"catalog\.books\.[0-9a-f]{12}", unique_name("catalog.books."))


def test_test_database_is_not_collected_as_a_test_class() -> None:
    assert TestDatabase.__test__ is False  # type: ignore[attr-defined]


def test_tests_under_tests_unit_get_the_unit_marker(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None
    assert request.node.get_closest_marker("integration") is None
