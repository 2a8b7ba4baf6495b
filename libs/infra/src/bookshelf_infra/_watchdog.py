"""Clean up after a test session whose pytest process died without running its finalizers.

``python -m bookshelf_infra._watchdog PID WORKDIR [DATADIR]`` waits until process PID is gone, then
stops the PostgreSQL server of DATADIR (if given) and removes WORKDIR; a session that shuts down
cleanly terminates its watchdogs first. Needed because ``pg_ctl`` detaches the server, so it outlives
a killed pytest (``timeout`` sends SIGTERM, which skips fixture finalizers). The broker dies with its
parent (``die_with_parent``), so for Kafka the watchdog only removes the directory.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil


def spawn(workdir: Path, datadir: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a watchdog for the calling process, in its own session (so Ctrl-C does not reach it)."""
    args = [str(psutil.Process().pid), str(workdir), *([str(datadir)] if datadir else [])]
    return subprocess.Popen(
        [sys.executable, "-m", "bookshelf_infra._watchdog", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main(argv: list[str]) -> int:
    """Wait for the watched process to exit, then stop the server and remove its directory."""
    pid, workdir = int(argv[0]), Path(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the session cleaned up itself
    try:
        watched = psutil.Process(pid)
        while watched.is_running() and watched.status() != psutil.STATUS_ZOMBIE:
            time.sleep(1.0)
    except psutil.NoSuchProcess:
        pass
    if len(argv) > 2:
        from .postgres import EmbeddedPostgres

        with contextlib.suppress(Exception):
            EmbeddedPostgres(Path(argv[2])).stop()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
