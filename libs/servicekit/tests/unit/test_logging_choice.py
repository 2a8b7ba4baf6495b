"""LOG_LEVEL and LOG_FORMAT choose the log level and renderer; a wrong value is refused by name."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from bookshelf_servicekit.logging import configure_logging, logging_choice


def test_defaults_are_info_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert logging_choice() == ("INFO", True)


def test_console_format_and_debug_level(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "console")
    configure_logging("svc")
    try:
        assert logging.getLogger().level == logging.DEBUG
        structlog.get_logger("t").debug("hello", answer=42)
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert "hello" in line
        assert "answer=42" in line
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    finally:
        monkeypatch.delenv("LOG_LEVEL")
        monkeypatch.delenv("LOG_FORMAT")
        configure_logging("svc")


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "chatty"), ("LOG_FORMAT", "xml")])
def test_a_value_outside_the_choices_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}=.*expected one of"):
        logging_choice()
