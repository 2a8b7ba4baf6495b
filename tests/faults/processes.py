"""The service processes of the fault suite: one per role, each startable, killable and restartable.

Every service entrypoint takes ``--role all|api|relay|consumers``; the harness runs the roles it
injects faults into as processes of their own, and two ``--role relay`` processes for ordering (one
active, one standby, by PostgreSQL advisory lock). The saga worker (faust) has no roles.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bookshelf_cli.services import SERVICES, ServiceSpec
from bookshelf_infra._proc import die_with_parent_hook

from tests import processes

# name -> (service, role); role None: the saga worker.
LAYOUT: dict[str, tuple[str, str | None]] = {
    "catalog-api": ("catalog", "api"),
    "catalog-relay": ("catalog", "relay"),
    "catalog-consumers": ("catalog", "consumers"),
    "ordering-api": ("ordering", "api"),
    "ordering-relay-a": ("ordering", "relay"),
    "ordering-relay-b": ("ordering", "relay"),
    "ordering-consumers": ("ordering", "consumers"),
    "inventory-api": ("inventory", "api"),
    "inventory-relay": ("inventory", "relay"),
    "inventory-consumers": ("inventory", "consumers"),
    "shipping": ("shipping", "all"),
    "storefront-query": ("storefront-query", "all"),
    "fulfillment": ("fulfillment", None),
}
# The process serving each service's API (and whose port the CLI is given).
API_PROCESS = {
    "catalog": "catalog-api",
    "ordering": "ordering-api",
    "inventory": "inventory-api",
    "shipping": "shipping",
    "storefront-query": "storefront-query",
    "fulfillment": "fulfillment",
}


def spec_of(service: str) -> ServiceSpec:
    """The `bookshelf run` registry entry of a service (module, database, env prefix)."""
    return next(s for s in SERVICES if s.name == service)


@dataclass
class Proc:
    """One service process: what it runs, its HTTP port and (while running) its Popen."""

    name: str
    service: str
    role: str | None
    port: int
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        assert self.popen.poll() is None, f"{self.name} is not running"
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def launch(self, env: dict[str, str]) -> None:
        """Start the process with ``env`` plus its extra environment (output appended to its log)."""
        assert not self.running(), f"{self.name} already runs"
        spec = spec_of(self.service)
        args = [sys.executable, "-m", spec.module]
        env = env | self.extra_env
        if self.role is None:
            env[f"{spec.env_prefix}_PORT"] = str(self.port)
        else:
            args += ["--role", self.role, "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                args,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent_hook(),  # no orphans if the test run is killed
                cwd=self.log_path.parent,  # faust writes its <app>-data folder into the working directory
            )

    def kill(self) -> int:
        """SIGKILL (a crash: no shutdown, no commit; the kernel closes its connections)."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        assert self.popen is not None
        self.popen.wait(10)
        return pid

    def terminate(self, timeout: float = 30.0) -> None:
        """SIGTERM and wait for the graceful exit (SIGKILL after ``timeout``)."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Poll /readyz until 200 (a deadline; fails at once when the process exits)."""
        processes.wait_ready(
            self.url,
            name=self.name,
            exited=lambda: None if self.running() else f"{self.name} exited\n{self.log_tail()}",
            log=self.log_tail,
            timeout=timeout,
        )

    def log_tail(self, chars: int = 3000) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]
