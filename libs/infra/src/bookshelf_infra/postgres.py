"""Embedded PostgreSQL 16: the binaries shipped in the ``pgserver`` wheel, listening on TCP.

``pgserver.get_server`` is not used because it listens on a Unix socket only; this runs ``initdb`` and
``pg_ctl`` itself. PostgreSQL refuses to run as root, so under euid 0 the binaries run as the system user
``pgserver`` (created on first use, as pgserver itself does) and the data directory is chowned to it.

Measured on the 2-core dev machine (PostgreSQL 16, ``fsync=off`` for the fresh case):
first start including ``initdb`` 0.55-0.65 s (with or without ``fsync=off``); restart of an existing
data directory ~0.12 s; ``stop()`` ~0.12 s; ``create_database`` ~50 ms.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psutil

with warnings.catch_warnings():  # importing pgserver warns when XDG_RUNTIME_DIR is unset (root, CI)
    warnings.simplefilter("ignore")
    from pgserver._commands import POSTGRES_BIN_PATH

from ._net import PortInUseError, port_in_use
from .pgadmin import PostgresAdmin

__all__ = ["PG_SYSTEM_USER", "EmbeddedPostgres", "PortInUseError", "PostgresCommandError"]

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "pgserver"  # the account pgserver itself uses when started as root
_DEFAULT_SETTINGS = {"max_connections": "300"}
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.NNNNN"


class PostgresCommandError(RuntimeError):
    """``initdb`` or ``pg_ctl`` failed; the message carries its output and the server log tail."""


class EmbeddedPostgres(PostgresAdmin):
    """A PostgreSQL server on ``host:port`` whose data lives in ``datadir`` (kept across restarts).

    ``settings`` become ``-c name=value`` server options, e.g. ``{"fsync": "off"}`` for throwaway test
    servers; the default keeps PostgreSQL's durability settings. Authentication is ``trust`` for the
    ``postgres`` role, so bind it to loopback only.
    """

    def __init__(
        self,
        datadir: Path,
        port: int = 5433,
        host: str = "127.0.0.1",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"postgresql://postgres@{host}:{port}/postgres")
        self.datadir = Path(datadir).absolute()
        self.port = port
        self.host = host
        self.settings = {**_DEFAULT_SETTINGS, **(settings or {})}
        self.log_path = self.datadir / "postgres.log"
        self._system_user = PG_SYSTEM_USER if os.geteuid() == 0 else None

    def start(self) -> None:
        """initdb if needed, then ``pg_ctl start`` and wait until it accepts connections.

        A server already running on this data directory and port is adopted as is.
        """
        started = time.monotonic()
        running_port = self._running_port()
        if running_port == self.port:
            log.info("PostgreSQL already running on %s:%s (%s)", self.host, self.port, self.datadir)
            return
        if running_port is not None:
            raise PostgresCommandError(
                f"a PostgreSQL server for {self.datadir} already runs on port {running_port}, not {self.port}"
            )
        if port_in_use(self.host, self.port):
            raise PortInUseError(
                f"port {self.port} is in use; set BOOKSHELF_PG_PORT or stop the other process"
            )
        self._prepare_datadir()
        if not (self.datadir / "PG_VERSION").exists():
            self._initdb()
        self._remove_stale_locks()
        options = [
            f"-h {shlex.quote(self.host)}",
            f"-p {self.port}",
            f"-k {shlex.quote(str(self._socket_dir()))}",
        ]
        options += [f"-c {shlex.quote(f'{name}={value}')}" for name, value in self.settings.items()]
        self._run("pg_ctl", "-w", "-t", "60", "-l", str(self.log_path), "-o", " ".join(options), "start")
        log.info("PostgreSQL ready on %s:%s in %.2f s", self.host, self.port, time.monotonic() - started)

    def stop(self) -> None:
        """``pg_ctl stop -m fast`` (disconnects clients, checkpoints, exits); no-op when not running."""
        if self._running_port() is not None:
            self._run("pg_ctl", "-w", "-t", "60", "-m", "fast", "stop")

    def is_running(self) -> bool:
        """True when a server process for this data directory is alive."""
        return self._running_port() is not None

    def _running_port(self) -> int | None:
        """The port of the live postmaster of ``datadir``, from ``postmaster.pid``; None if none runs."""
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            process = psutil.Process(pid)
            # A SIGKILLed postmaster whose parent (init) has not reaped it yet is a zombie: dead.
            alive = process.name() == "postgres" and process.status() != psutil.STATUS_ZOMBIE
        except (OSError, IndexError, ValueError, psutil.NoSuchProcess):
            return None
        except psutil.AccessDenied:
            alive = True
        return port if alive else None

    def _remove_stale_locks(self) -> None:
        """Delete lock files of a postmaster that was killed (its pid gone, or a zombie).

        PostgreSQL removes a lock whose pid is gone, but takes a zombie for a live server: under an init
        that does not reap orphans (some containers), a SIGKILLed postmaster stays one, and every later
        start would fail with "lock file postmaster.pid already exists".
        """
        for lock in [self.datadir / "postmaster.pid", *self._socket_dir().glob(".s.PGSQL.*.lock")]:
            try:
                pid = int(lock.read_text().split()[0])
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    continue
            except (OSError, IndexError, ValueError):
                continue
            except psutil.NoSuchProcess:
                pass
            log.warning("removing the stale lock %s of a killed server (pid %s)", lock, pid)
            lock.unlink(missing_ok=True)

    def _initdb(self) -> None:
        args = ["--auth=trust", "-U", "postgres", "--encoding=utf8", "--no-locale", "--no-instructions"]
        if self.settings.get("fsync") == "off":
            args.append("--no-sync")
        self._run("initdb", *args)

    def _prepare_datadir(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._system_user is None:
            return
        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(self._system_user)
        _ensure_binaries_readable()
        ensure_prefix_permissions(self.datadir)  # the system user must traverse every parent
        entry = pwd.getpwnam(self._system_user)
        os.chown(self.datadir, entry.pw_uid, entry.pw_gid)

    def _socket_dir(self) -> Path:
        if len(str(self.datadir)) <= _SOCKET_PATH_MAX:
            return self.datadir
        digest = hashlib.sha256(str(self.datadir).encode()).hexdigest()[:12]
        socket_dir = Path(tempfile.gettempdir()) / f"bookshelf-pg-{digest}"
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self._system_user is not None:
            entry = pwd.getpwnam(self._system_user)
            os.chown(socket_dir, entry.pw_uid, entry.pw_gid)
        return socket_dir

    def _run(self, program: str, *args: str) -> None:
        command = [str(POSTGRES_BIN_PATH / program), "-D", str(self.datadir), *args]
        kwargs: dict[str, Any] = {}
        if self._system_user is not None:
            entry = pwd.getpwnam(self._system_user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        # Output goes to a temporary file: pg_ctl can hang on pipes that the server inherits.
        with tempfile.TemporaryFile() as output:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.datadir,
                env=_pg_env(),
                timeout=120,
                check=False,
                **kwargs,
            )
            if result.returncode != 0:
                output.seek(0)
                text = output.read().decode(errors="replace")
                raise PostgresCommandError(
                    f"{program} {' '.join(args)} failed with status {result.returncode}:\n{text}{self._log_tail()}"
                )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"\n--- last lines of {self.log_path} ---\n" + "\n".join(tail)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _pg_env() -> dict[str, str]:
    # PGDATA, PGPORT, PGOPTIONS... in the caller's environment would change what initdb/pg_ctl do.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


@functools.cache
def _ensure_binaries_readable() -> None:
    """Let the unprivileged system user read and run the wheel's binaries and libraries (once per process)."""
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    share = POSTGRES_BIN_PATH.parent / "share"
    if share.exists():
        ensure_folder_permissions(share, read)
