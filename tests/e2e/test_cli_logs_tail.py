"""`bookshelf logs` and `bookshelf tail` against the running system: readable logs, pretty envelopes."""

from __future__ import annotations

import httpx

from tests.e2e.system import RunningSystem, Shop


def test_logs_show_a_service_as_readable_lines(running_system: RunningSystem) -> None:
    shown = running_system.cli_in_process("logs", "catalog", "--lines", "50")
    assert shown.returncode == 0, shown.stderr
    assert "catalog" in shown.stdout
    assert "service started" in shown.stdout
    assert '{"event"' not in shown.stdout  # rendered, not raw JSON

    unknown = running_system.cli_in_process("logs", "no-such-service")
    assert unknown.returncode == 2
    assert "no log for no-such-service" in unknown.stdout


async def test_tail_prints_the_envelope_of_a_new_book(running_system: RunningSystem) -> None:
    async with httpx.AsyncClient(timeout=15.0) as client:
        book_id = await Shop(running_system, client).add_book("Tailed Title")
    shown = running_system.cli(
        "tail", "catalog.books", "--from-beginning", "--key", book_id, "--max", "1", "--idle-exit", "30"
    )
    assert shown.returncode == 0, shown.stderr
    assert f"key={book_id}" in shown.stdout
    assert '"type": "BookAdded"' in shown.stdout
    assert '"title": "Tailed Title"' in shown.stdout

    missing = running_system.cli("tail", "no.such.topic", "--max", "1")
    assert missing.returncode == 1
    assert "no topic no.such.topic" in missing.stderr
