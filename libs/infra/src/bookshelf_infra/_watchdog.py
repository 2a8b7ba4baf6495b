"""Clean up after a process that died without running its finalizers (a killed pytest or supervisor).

``python -m bookshelf_infra._watchdog PID [--stop-postgres DATADIR] [--remove DIR]`` waits until
process PID is gone, then stops the PostgreSQL server of DATADIR and removes DIR; a process that shuts
down cleanly terminates its watchdogs first. Needed because ``pg_ctl`` detaches the server, so it
outlives a killed parent (``timeout`` and SIGKILL skip fixture finalizers and ``finally`` blocks). The
broker and the services die with their parent (a parent-death signal), so they need no watchdog.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil


def spawn(remove: Path | None = None, postgres_datadir: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a watchdog for the calling process, in its own session (so Ctrl-C does not reach it)."""
    args = [str(psutil.Process().pid)]
    if remove is not None:
        args += ["--remove", str(remove)]
    if postgres_datadir is not None:
        args += ["--stop-postgres", str(postgres_datadir)]
    return subprocess.Popen(
        [sys.executable, "-m", "bookshelf_infra._watchdog", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main(argv: list[str]) -> int:
    """Wait for the watched process to exit, then stop the server and remove the directory."""
    parser = argparse.ArgumentParser(prog="bookshelf_infra._watchdog")
    parser.add_argument("pid", type=int)
    parser.add_argument("--remove", type=Path)
    parser.add_argument("--stop-postgres", type=Path)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the watched process cleaned up itself
    try:
        watched = psutil.Process(args.pid)
        while watched.is_running() and watched.status() != psutil.STATUS_ZOMBIE:
            time.sleep(1.0)
    except psutil.NoSuchProcess:
        pass
    if args.stop_postgres is not None:
        from .postgres import EmbeddedPostgres

        with contextlib.suppress(Exception):
            EmbeddedPostgres(args.stop_postgres).stop()
    if args.remove is not None:
        shutil.rmtree(args.remove, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
