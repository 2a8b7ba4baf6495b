"""Child processes of `bookshelf run`: start, health-wait, restart with backoff, stop gracefully."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from bookshelf_infra._proc import die_with_parent_hook
from bookshelf_messaging.policy import RESTART_BACKOFF

from bookshelf_cli.services import ServiceSpec


@dataclass
class Child:
    """One service process and what is needed to restart it."""

    spec: ServiceSpec
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_restart_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.spec.configured_port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.spec.module],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
            preexec_fn=die_with_parent_hook(),  # SIGTERM from the kernel if the supervisor is killed
        )
        log.close()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def service_env(spec: ServiceSpec, kafka_bootstrap: str, database_url: str | None) -> dict[str, str]:
    """The environment of one service process: the caller's, plus the local addresses."""
    env = dict(os.environ)
    env.setdefault("BOOKSHELF_ENV", "dev")
    env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    env[f"{spec.env_prefix}_PORT"] = str(spec.configured_port)
    if database_url:
        env[f"{spec.env_prefix}_DATABASE_URL"] = database_url
    return env


def wait_ready(children: list[Child], timeout: float = 60.0) -> dict[str, bool]:
    """Poll every child's /readyz until all answer 200 or the deadline passes."""
    deadline = time.monotonic() + timeout
    ready = {c.spec.name: False for c in children}
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline and not all(ready.values()):
            for child in children:
                if ready[child.spec.name] or child.exited() is not None:
                    continue
                with contextlib.suppress(httpx.HTTPError):
                    ready[child.spec.name] = client.get(f"{child.url}/readyz").status_code == 200
            time.sleep(0.2)
    return ready


def restart_crashed(children: list[Child]) -> None:
    """Restart children that exited, with the shared restart backoff (1 s doubling to 30 s, jittered)."""
    now = time.monotonic()
    for child in children:
        code = child.exited()
        if code is None:
            continue
        if child.next_restart_at == 0.0:
            delay = RESTART_BACKOFF.delay(child.restarts + 1)
            child.next_restart_at = now + delay
            print(
                f"{child.spec.name} exited with {code}; restarting in {delay:.1f}s "
                f"(log: {child.log_path})\n{child.log_tail()}",
                file=sys.stderr,
            )
        elif now >= child.next_restart_at:
            child.restarts += 1
            child.next_restart_at = 0.0
            child.start()
