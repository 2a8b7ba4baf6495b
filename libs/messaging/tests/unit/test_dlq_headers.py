"""Dead-letter entry ids, header building and parsing (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bookshelf_messaging.dlq import (
    H_ATTEMPTS,
    H_REPLAY_COUNT,
    H_REPLAY_GROUP,
    DeadLetter,
    Failure,
    build_dead_letter,
    dlq_topic_for,
    entry_id,
    format_error,
    header,
    truncated,
)


@dataclass
class FakeRecord:
    topic: str = "catalog.books"
    partition: int = 3
    offset: int = 42
    key: bytes | None = b"book-1"
    value: bytes | None = b'{"x": 1}'
    headers: list[tuple[str, bytes]] = field(default_factory=lambda: [("type", b"BookAdded")])


def _failure(error: BaseException | None = None, attempts: int = 4) -> Failure:
    first = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    return Failure(error or ValueError("price must be > 0"), attempts, first, first + timedelta(seconds=1))


def test_entry_id_is_deterministic_and_short() -> None:
    one = entry_id("g", "t", 1, 2)
    assert one == entry_id("g", "t", 1, 2)
    assert len(one) == 16
    assert int(one, 16) >= 0
    assert one != entry_id("g", "t", 1, 3)
    assert one != entry_id("g2", "t", 1, 2)


def test_bulk_lane_dead_letters_into_the_primary_dlq() -> None:
    assert dlq_topic_for("catalog.books") == "catalog.books.dlq"
    assert dlq_topic_for("catalog.books.bulk") == "catalog.books.dlq"


def test_headers_carry_every_field() -> None:
    record = FakeRecord()
    try:
        raise ValueError("price must be > 0")
    except ValueError as exc:
        error = exc
    letter = build_dead_letter(record, "inventory.catalog-events", _failure(error))
    assert letter.topic == "catalog.books.dlq"
    assert letter.key == entry_id("inventory.catalog-events", "catalog.books", 3, 42)
    assert letter.value == record.value
    names = dict(letter.headers)
    assert names["type"] == b"BookAdded"  # the original headers stay
    assert names["dlq.original_topic"] == b"catalog.books"
    assert names["dlq.original_partition"] == b"3"
    assert names["dlq.original_offset"] == b"42"
    assert names["dlq.original_key"] == b"book-1"
    assert names["dlq.consumer_group"] == b"inventory.catalog-events"
    assert names["dlq.error_type"] == b"ValueError"
    assert names["dlq.error_message"] == b"price must be > 0"
    assert b"Traceback" in names["dlq.stacktrace"]
    assert b"test_headers_carry_every_field" in names["dlq.stacktrace"]
    assert names[H_ATTEMPTS] == b"4"
    assert names["dlq.first_failed_at"] == b"2024-05-01T12:00:00Z"
    assert names["dlq.last_failed_at"] == b"2024-05-01T12:00:01Z"
    assert names[H_REPLAY_COUNT] == b"0"


def test_replay_count_is_carried_over_and_old_dlq_headers_dropped() -> None:
    record = FakeRecord(headers=[("type", b"X"), (H_REPLAY_COUNT, b"2"), ("dlq.error_type", b"Old")])
    letter = build_dead_letter(record, "g", _failure())
    assert header(letter.headers, H_REPLAY_COUNT) == b"2"
    assert [v for k, v in letter.headers if k == "dlq.error_type"] == [b"ValueError"]


def test_error_type_names_module_for_non_builtins() -> None:
    class Boom(Exception):
        pass

    error_type, message, _ = format_error(Boom("x" * 5000))
    assert error_type.endswith("Boom")
    assert "test_dlq_headers" in error_type
    assert len(message) == 2000


def test_dead_letter_parses_its_headers_and_builds_replay_headers() -> None:
    letter = build_dead_letter(FakeRecord(), "g", _failure())
    parsed = DeadLetter.from_record("catalog.books.dlq", 1, 7, letter.key, letter.value, letter.headers)
    assert parsed.entry_id == letter.key
    assert (parsed.original_topic, parsed.original_partition, parsed.original_offset) == (
        "catalog.books",
        3,
        42,
    )
    assert parsed.original_key == b"book-1"
    assert parsed.consumer_group == "g"
    assert parsed.error_type == "ValueError"
    assert parsed.attempts == 4
    assert parsed.first_failed_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parsed.replay_count == 0
    assert parsed.message_type == "BookAdded"
    assert parsed.original_headers == [("type", b"BookAdded")]
    # The replay is addressed to the group that failed: only that group handles it.
    assert parsed.replay_headers() == [("type", b"BookAdded"), (H_REPLAY_COUNT, b"1"), (H_REPLAY_GROUP, b"g")]


def test_a_truncated_letter_keeps_a_prefix_and_says_how_large_the_value_was() -> None:
    from bookshelf_messaging.dlq import H_VALUE_TRUNCATED, TRUNCATED_VALUE_BYTES, truncated

    letter = build_dead_letter(FakeRecord(value=b"x" * 3_000_000), "g", _failure())
    cut = truncated(letter)
    assert cut.value == b"x" * TRUNCATED_VALUE_BYTES
    assert header(cut.headers, H_VALUE_TRUNCATED) == b"3000000"
    assert (cut.topic, cut.key) == (letter.topic, letter.key)  # the same entry
    assert header(cut.headers, "dlq.original_offset") == b"42"


def test_a_record_without_a_value_becomes_a_letter_with_a_value() -> None:
    letter = build_dead_letter(FakeRecord(value=None), "g", _failure())
    assert letter.value == b""  # a null value would be a tombstone on the compacted DLQ
    parsed = DeadLetter.from_record("catalog.books.dlq", 0, 1, letter.key, letter.value, letter.headers)
    assert parsed.original_tombstone
    assert "nothing to replay" in (parsed.replay_refusal() or "")


def test_a_cut_letter_says_where_the_whole_record_is() -> None:
    letter = truncated(build_dead_letter(FakeRecord(value=b"x" * 70_000), "g", _failure()))
    parsed = DeadLetter.from_record("catalog.books.dlq", 0, 1, letter.key, letter.value, letter.headers)
    assert parsed.truncated_from == 70_000
    refusal = parsed.replay_refusal() or ""
    assert "65536 of the record's 70000 bytes" in refusal
    assert "catalog.books partition 3 offset 42" in refusal
    assert DeadLetter.from_record("t.dlq", 0, 1, "k", b"{}", []).replay_refusal() is None
