"""The saga worker arms the exit deadline on its first stop signal (once), then shuts down as faust does."""

from __future__ import annotations

import signal
from typing import Any

import faust
import pytest
from bookshelf_fulfillment import bootstrap


def test_the_first_stop_signal_arms_the_deadline_once(monkeypatch: pytest.MonkeyPatch) -> None:
    armed: list[float] = []
    scheduled: list[Any] = []
    monkeypatch.setattr(bootstrap, "arm_exit_deadline", armed.append)
    monkeypatch.setattr(faust.Worker, "_schedule_shutdown", lambda self, sig: scheduled.append(sig))
    worker = bootstrap.DeadlineWorker.__new__(bootstrap.DeadlineWorker)  # no app: only the hook is tested
    worker._schedule_shutdown(signal.SIGTERM)
    worker._schedule_shutdown(signal.SIGINT)
    assert armed == [bootstrap.EXIT_DEADLINE_S]
    assert scheduled == [signal.SIGTERM, signal.SIGINT]
