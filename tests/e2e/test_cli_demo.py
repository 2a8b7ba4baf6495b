"""`bookshelf demo` against the running system: books, three orders on the saga's three paths, a
poison record; and a second run changes nothing."""

from __future__ import annotations

import re

from tests.e2e.system import RunningSystem

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def orders_shown(stdout: str) -> dict[str, str]:
    """order id -> status, from the demo's table."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(rf"({UUID})\s.*?\b(CONFIRMED|CANCELLED|PENDING)\b", stdout)
    }


def test_demo_seeds_orders_on_every_path_and_is_idempotent(running_system: RunningSystem) -> None:
    first = running_system.cli("demo", timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Books: " in first.stdout
    shown = orders_shown(first.stdout)
    assert sorted(shown.values()) == ["CANCELLED", "CANCELLED", "CONFIRMED"], first.stdout
    assert "bookshelf dlq list --topic catalog.books" in first.stdout

    again = running_system.cli("demo", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Books: 0 imported, 5 already there" in again.stdout
    assert orders_shown(again.stdout) == shown  # the same orders, not new ones
    assert "Poison record on catalog.books: already there" in again.stdout
