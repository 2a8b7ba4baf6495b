"""How `bookshelf dlq` shows dead letters: JSON documents, filters, counts and tables (no broker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from bookshelf_cli import dlq_view as view
from bookshelf_cli.dlq import _in_batches
from bookshelf_messaging.dlq import DeadLetter, Failure, build_dead_letter
from rich.console import Console

FAILED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class _Record:
    topic: str = "catalog.books"
    partition: int = 2
    offset: int = 41
    key: bytes | None = b"book-1"
    value: bytes | None = b'{"type": "BookAdded"}'
    headers: list[tuple[str, bytes]] = field(default_factory=lambda: [("type", b"BookAdded")])


def _entry(error: Exception | None = None, record: _Record | None = None, replays: int = 0) -> DeadLetter:
    record = record or _Record()
    if replays:
        record.headers.append(("dlq.replay_count", str(replays).encode()))
    failure = Failure(error or ValueError("price [amount] missing"), 4, FAILED_AT, FAILED_AT)
    dead = build_dead_letter(record, "inventory.catalog-events", failure)
    return DeadLetter.from_record(dead.topic, 0, 7, dead.key, dead.value, dead.headers)


def _render(renderable: object) -> str:
    console = Console(width=200, record=True, force_terminal=False)
    console.print(renderable)
    return console.export_text()


def test_summary_names_topic_group_error_time_and_attempts() -> None:
    summary = view.entry_summary(_entry())
    assert summary["topic"] == "catalog.books"
    assert summary["dlq_topic"] == "catalog.books.dlq"
    assert summary["group"] == "inventory.catalog-events"
    assert summary["error_type"] == "ValueError"
    assert summary["failed_at"] == "2024-05-01T12:00:00Z"
    assert summary["attempts"] == 4
    assert summary["key"] == "book-1"
    assert summary["message_type"] == "BookAdded"
    orjson.dumps(summary)  # one JSON document, nothing exotic inside


def test_detail_parses_json_payloads_and_keeps_text_ones() -> None:
    detail = view.entry_detail(_entry())
    assert detail["payload"] == {"type": "BookAdded"}
    assert "ValueError" in detail["stacktrace"]
    assert detail["headers"]["dlq.original_offset"] == "41"
    assert view.entry_detail(_entry(record=_Record(value=b"{not json")))["payload"] == "{not json"
    assert view.entry_detail(_entry(record=_Record(value=None)))["payload"] is None


def test_error_type_filter_takes_the_full_name_or_its_last_part() -> None:
    class PermanentError(Exception):
        pass

    entry = _entry(PermanentError("no order"))
    assert entry.error_type.endswith(".PermanentError")
    assert view.matches_error_type(entry, None)
    assert view.matches_error_type(entry, "permanenterror")
    assert view.matches_error_type(entry, entry.error_type)
    assert not view.matches_error_type(entry, "ValueError")


def test_counts_by_error_type_most_frequent_first() -> None:
    entries = [_entry(KeyError("a")), _entry(), _entry(), _entry(KeyError("b")), _entry()]
    assert view.counts_by_error_type(entries) == {"ValueError": 3, "KeyError": 2}


def test_tables_show_ids_and_survive_markup_in_error_messages() -> None:
    entry = _entry(replays=2)
    text = _render(view.list_table([entry], now=FAILED_AT + timedelta(minutes=4, seconds=5)))
    assert entry.entry_id in text
    assert "4m05s ago" in text
    assert "price [amount] missing" in text
    detail = _render(view.inspect_view(entry))
    assert "partition 2, offset 41" in detail
    assert "2 time(s)" in detail
    assert "Traceback" in detail or "ValueError" in detail


def test_batches_respect_the_rate() -> None:
    done: list[list[int]] = []
    pauses: list[float] = []
    _in_batches(list(range(5)), 0, done.append, lambda n: None, pauses.append)
    assert done == [[0, 1, 2, 3, 4]]
    assert pauses == []
    done.clear()
    _in_batches(list(range(5)), 2, done.append, lambda n: None, pauses.append)
    assert [len(b) for b in done] == [2, 2, 1]
    assert len(pauses) == 2
    assert all(0.9 < p <= 1.0 for p in pauses)  # 2 entries at 2/s: about a second per batch
