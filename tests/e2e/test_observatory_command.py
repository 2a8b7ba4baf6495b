"""`bookshelf observatory --port P`: the dashboard in the foreground, ready on its port, Ctrl-C stops it
(also while a dashboard's event stream is open)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import free_port, unique_name

from tests import processes


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 180.0) -> None:
    processes.wait_ready(
        url,
        name="bookshelf observatory",
        exited=lambda: (
            None
            if process.poll() is None
            else f"bookshelf observatory exited {process.returncode}\n{log.read_text()}"
        ),
        log=lambda: log.read_text()[-3000:],
        timeout=timeout,
    )


def test_observatory_command_serves_the_dashboard_until_ctrl_c(
    kafka_bootstrap: str, postgres_server: PostgresAdmin, tmp_path: Path
) -> None:
    database = unique_name("observatory_cmd")  # `bookshelf observatory` creates and migrates it
    port, log = free_port(), tmp_path / "observatory.out"
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "OBSERVATORY_DATABASE_URL": postgres_server.sqlalchemy_url(database),
        "OBSERVATORY_INDEXER_GROUP": unique_name("observatory.indexer.cmd"),
        "BOOKSHELF_ENV": "dev",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bookshelf_cli.main", "observatory", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(process, url, log)
        # Dev mode on this machine: the dashboard signs in by itself (a redirect that sets the cookie).
        with httpx.Client(timeout=10, follow_redirects=True) as browser:
            page = browser.get(f"{url}/")
            assert page.status_code == 200
            assert "Bookshelf observatory" in page.text
            assert isinstance(browser.get(f"{url}/api/dead-letters").json(), list)
            assert httpx.get(f"{url}/api/dead-letters", timeout=10).status_code == 401
            # An open dashboard (its event stream) does not hold Ctrl-C: a stream lasts a few seconds.
            with browser.stream("GET", f"{url}/events/overview") as live:
                assert live.status_code == 200
                assert next(live.iter_lines()).startswith("retry: ")
                process.send_signal(signal.SIGINT)
                status = process.wait(30)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        status = process.wait(30)
    assert status == 0, log.read_text()
    assert f"Observatory on http://127.0.0.1:{port}" in log.read_text()
    postgres_server.drop_database(database)
