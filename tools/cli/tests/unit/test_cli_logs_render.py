"""`bookshelf logs` turns JSON log records into one readable line; other lines pass through."""

from __future__ import annotations

from pathlib import Path

import orjson
from bookshelf_cli.logs import follow, render


def test_a_json_record_becomes_time_level_event_and_fields() -> None:
    raw = orjson.dumps(
        {"event": "consumer.started", "level": "info", "timestamp": "2026-12-05T10:11:12.5Z", "group": "g1"}
    ).decode()
    stamp, source, text = render("catalog", "cyan", raw)
    assert (stamp, source) == ("2026-12-05T10:11:12.5Z", "catalog")
    assert "10:11:12" in text
    assert "consumer.started" in text
    assert "group=g1" in text
    assert "timestamp" not in text


def test_a_line_that_is_not_json_is_printed_as_it_is() -> None:
    _, _, text = render("catalog", "cyan", "Traceback (most recent call last): [boom]")
    assert "Traceback (most recent call last): \\[boom]" in text  # escaped for rich markup


def test_several_logs_are_merged_by_time(tmp_path: Path) -> None:
    def line(t: str, event: str) -> str:
        return orjson.dumps({"event": event, "level": "info", "timestamp": f"2026-12-05T10:00:{t}Z"}).decode()

    (tmp_path / "a.log").write_text(line("01", "first") + "\n" + line("03", "third") + "\n")
    (tmp_path / "b.log").write_text(line("02", "second") + "\n")
    texts = list(follow({"a": tmp_path / "a.log", "b": tmp_path / "b.log"}, 20, forever=False))
    order = [next(e for e in ("first", "second", "third") if e in t) for t in texts]
    assert order == ["first", "second", "third"]
