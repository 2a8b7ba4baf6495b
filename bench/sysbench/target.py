"""The system under test: started here through `bookshelf run` (local Kafka and PostgreSQL) or already running.

Starting it is what tests/e2e/system.py does (free ports, one BOOKSHELF_HOME, wait for every /readyz);
attaching takes the addresses from the environment variables `bookshelf run` itself reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from bookshelf_infra.testing import free_port

SERVICES = {  # name -> environment prefix, default port (API.md)
    "catalog": ("CATALOG", 8001),
    "ordering": ("ORDERING", 8002),
    "inventory": ("INVENTORY", 8003),
    "shipping": ("SHIPPING", 8004),
    "storefront-query": ("STOREFRONT", 8005),
    "fulfillment": ("FULFILLMENT", 8006),
    "observatory": ("OBSERVATORY", 9000),
}
ADMIN = {"Authorization": "Bearer dev-admin-token"}


@dataclass
class Target:
    """Addresses of a running system, and its `bookshelf run` process when known."""

    urls: dict[str, str]
    kafka: str
    storefront_dsn: str | None  # asyncpg DSN of storefront's database (what GET /storefront reads)
    root_pid: int | None  # `bookshelf run`: CPU and memory are measured over its process tree
    env: dict[str, str] = field(default_factory=dict)  # what a `bookshelf` CLI needs to find it
    process: subprocess.Popen[bytes] | None = None  # set when the bench started it
    home: Path | None = None

    @property
    def postmaster_pid(self) -> int | None:
        """The embedded PostgreSQL's postmaster (a daemon, not a child of `bookshelf run`), if local."""
        home = self.home or Path(self.env.get("BOOKSHELF_HOME", ".bookshelf"))
        try:
            return int((home / "postgres" / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def url(self, service: str, path: str = "") -> str:
        return f"{self.urls[service]}{path}"

    def stop(self, timeout: float = 120.0) -> None:
        """Ctrl-C `bookshelf run` if the bench started it; if it does not stop in time, kill it and
        everything it started (its services run in sessions of their own, PostgreSQL as a daemon)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        postmaster = self.postmaster_pid
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            process.kill()
            process.wait(10)
            if postmaster:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(postmaster, signal.SIGINT)  # PostgreSQL's fast shutdown

    def status_json(self, timeout: float = 120.0) -> str:
        """`bookshelf status --json` against this system (consumer lag, outbox backlog)."""
        done = subprocess.run(
            [sys.executable, "-m", "bookshelf_cli.main", "status", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout


def start_embedded(home: Path, *, env: dict[str, str] | None = None, ready_timeout: float = 300.0) -> Target:
    """`bookshelf run` with every service on free ports; returns once every service is ready."""
    home.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in SERVICES}
    kafka_port, pg_port = free_port(), free_port()
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k != "KAFKA_BOOTSTRAP_SERVERS" and not k.endswith("_DATABASE_URL")
    }
    child_env |= {f"{prefix}_PORT": str(ports[name]) for name, (prefix, _) in SERVICES.items()}
    child_env |= {
        "BOOKSHELF_HOME": str(home),
        "BOOKSHELF_KAFKA_PORT": str(kafka_port),
        "BOOKSHELF_KAFKA_CONTROLLER_PORT": str(free_port()),
        "BOOKSHELF_PG_PORT": str(pg_port),
    }
    child_env |= env or {}
    process = subprocess.Popen(
        [sys.executable, "-m", "bookshelf_cli.main", "run"],
        env=child_env,
        stdout=(home / "run.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
    target = Target(
        urls={name: f"http://127.0.0.1:{port}" for name, port in ports.items()},
        kafka=f"127.0.0.1:{kafka_port}",
        storefront_dsn=f"postgresql://postgres@127.0.0.1:{pg_port}/storefront",
        root_pid=process.pid,
        env=child_env,
        process=process,
        home=home,
    )
    try:
        wait_ready(target, ready_timeout)
    except BaseException:
        target.stop()
        raise
    return target


def attach(host: str = "127.0.0.1", pid: int | None = None) -> Target:
    """A system someone else started, found through the environment (`<SERVICE>_PORT`,
    `KAFKA_BOOTSTRAP_SERVERS`, `STOREFRONT_DATABASE_URL`, `BOOKSHELF_PG_PORT`) or the defaults."""
    env = dict(os.environ)
    urls = {
        name: f"http://{host}:{env.get(f'{prefix}_PORT', port)}" for name, (prefix, port) in SERVICES.items()
    }
    kafka = env.get("KAFKA_BOOTSTRAP_SERVERS") or f"{host}:{env.get('BOOKSHELF_KAFKA_PORT', '9092')}"
    dsn = env.get("STOREFRONT_DATABASE_URL") or (
        f"postgresql://postgres@{host}:{env.get('BOOKSHELF_PG_PORT', '5433')}/storefront"
    )
    dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
    return Target(urls, kafka, dsn, pid if pid is not None else find_bookshelf_run(), env=env)


def find_bookshelf_run() -> int | None:
    """The pid of a local `bookshelf run` (for CPU and memory figures), if exactly one runs."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info.get("cmdline") or [])
        if ("bookshelf_cli.main run" in cmd or cmd.endswith("bookshelf run")) and proc.pid != os.getpid():
            found.append(proc.pid)
    return found[0] if len(found) == 1 else None


def wait_ready(target: Target, timeout: float) -> None:
    """Poll every service's /readyz until 200 (a deadline: this waits on other processes)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        for name in target.urls:
            while True:
                if target.process is not None and target.process.poll() is not None:
                    out = (target.home / "run.out").read_text(errors="replace")[-3000:] if target.home else ""
                    raise RuntimeError(f"bookshelf run exited with {target.process.returncode}\n{out}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(target.url(name, "/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout:g} s")
                time.sleep(0.25)
