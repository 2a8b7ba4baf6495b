"""What the e2e and fault suites both do with the processes they start: wait for /readyz, run the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import httpx


def wait_ready(
    url: str,
    *,
    name: str,
    exited: Callable[[], str | None],
    log: Callable[[], str],
    timeout: float = 120.0,
) -> None:
    """Poll ``url``/readyz until 200 (a deadline, not a sleep: a subprocess we wait on).

    ``exited()`` returns a description once the process is gone (fail at once), else None;
    ``log()`` is the text to show when the deadline passes."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        gone = exited()
        if gone is not None:
            raise AssertionError(gone)
        try:
            last = httpx.get(f"{url}/readyz", timeout=2.0)
            if last.status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)  # polling interval of a subprocess we wait on
    raise AssertionError(f"{name} not ready after {timeout}s: {last}\n{log()}")


def run_cli(env: dict[str, str], *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
    """Run `bookshelf ARGS...` in a new interpreter, as an operator would (stdin is not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "bookshelf_cli.main", *args],
        env=env | {"COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
