"""Formatting helpers of the operator commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from bookshelf_cli import output


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.25, "250ms"), (12.34, "12.3s"), (245, "4m05s"), (7620, "2h07m"), (273600, "3d04h")],
)
def test_age(seconds: float | None, text: str) -> None:
    assert output.age(seconds) == text


def test_when_and_iso() -> None:
    moment = datetime(2024, 5, 1, 12, 3, 4, tzinfo=UTC)
    assert output.when(moment, now=moment + timedelta(seconds=65)) == "2024-05-01 12:03:04Z (1m05s ago)"
    assert output.when(None) == "-"
    assert output.iso(moment) == "2024-05-01T12:03:04Z"
    assert output.iso(None) is None


def test_shorten_and_plural() -> None:
    assert output.shorten("first line\nsecond", 80) == "first line"
    assert output.shorten("x" * 10, 5) == "xxxx…"
    assert output.plural(1, "entry") == "1 entry"
    assert output.plural(3, "entry") == "3 entries"
    assert output.plural(2, "day") == "2 days"
    assert output.plural(0, "row") == "0 rows"


def test_fail_says_what_to_do_next_and_exits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited:
        output.fail("broker [x] down", "start it", code=2)
    assert exited.value.exit_code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "broker [x] down" in captured.err
    assert "next:" in captured.err


def test_emit_json_prints_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_json({"at": datetime(2024, 1, 1, tzinfo=UTC), "n": 1})
    assert capsys.readouterr().out.count("\n{") == 0
