"""The whole system started by `bookshelf run` on free ports, as a user would start it.

`start_system` can be called more than once (e.g. a second system with a short saga deadline, or
without one service); each gets its own BOOKSHELF_HOME, broker, PostgreSQL and ports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
from bookshelf_cli.services import ServiceSpec, installed_services
from bookshelf_infra.testing import eventually, free_port

from tests import processes
from tests.processes import run_cli

ADMIN = {"Authorization": "Bearer dev-admin-token"}
T = TypeVar("T")


@dataclass(frozen=True)
class RunningSystem:
    """Addresses of a system started by `bookshelf run`."""

    process: subprocess.Popen[bytes]
    kafka_bootstrap: str
    services: tuple[ServiceSpec, ...]
    ports: dict[str, int]
    home: Path
    env: dict[str, str] | None = None  # the environment `bookshelf run` was started with

    def url(self, service: str) -> str:
        """Base URL of a service by its name (`catalog`, `storefront-query`, ...)."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def log(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C the system, as a user would; returns `bookshelf run`'s exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def cli_env(self) -> dict[str, str]:
        """What a `bookshelf` CLI process needs to find this system: BOOKSHELF_HOME, BOOKSHELF_PG_PORT,
        BOOKSHELF_KAFKA_PORT and every `<SERVICE>_PORT` (the environment `bookshelf run` got)."""
        return dict(self.env if self.env is not None else os.environ)

    def cli(self, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
        """Run `bookshelf ARGS...` against this system, as an operator would (stdin is not a terminal)."""
        return run_cli(self.cli_env(), *args, timeout=timeout)

    def cli_in_process(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`bookshelf ARGS...` in this process (typer's CliRunner, this system's environment): the same
        commands without a new interpreter's import time, for checks that poll. Not from a running
        event loop for commands that run their own (status, audit): call those from sync tests."""
        from bookshelf_cli.main import app
        from typer.testing import CliRunner

        env = self.cli_env() | {"COLUMNS": "200"}
        # Mirror the environment exactly (None unsets), as a subprocess would get it: a
        # KAFKA_BOOTSTRAP_SERVERS of the test run must not point the CLI at another broker.
        unset: dict[str, str | None] = dict.fromkeys(os.environ.keys() - env.keys())
        result = CliRunner().invoke(app, list(args), env=unset | env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(
            ["bookshelf", *args], result.exit_code, result.stdout, result.stderr
        )


@contextlib.contextmanager
def system_home(prefix: str) -> Iterator[Path]:
    """A BOOKSHELF_HOME outside pytest's tmp_path, removed afterwards.

    Not tmp_path: pytest resets its base directory to 0700 when any pytest session starts, which
    locks the unprivileged user embedded PostgreSQL runs as (under root) out of a running system's
    data directory, and its stop then fails."""
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def start_system(
    home: Path,
    *,
    services: list[str] | None = None,
    env: dict[str, str] | None = None,
    ready_timeout: float | None = None,
) -> RunningSystem:
    """Start `bookshelf run` (all installed services, or `services`) and wait until each is ready.

    ``ready_timeout`` is per service (default ``BOOKSHELF_E2E_READY_TIMEOUT`` or 120 s): a system
    started while others run on a small machine can take longer.
    """
    specs = tuple(installed_services(services))
    ports = {s.name: free_port() for s in specs}
    kafka_port, pg_port = free_port(), free_port()
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k != "KAFKA_BOOTSTRAP_SERVERS" and not k.endswith("_DATABASE_URL")
    }
    child_env |= {f"{s.env_prefix}_PORT": str(ports[s.name]) for s in specs}
    child_env |= {
        "BOOKSHELF_HOME": str(home),
        "BOOKSHELF_KAFKA_PORT": str(kafka_port),
        "BOOKSHELF_KAFKA_CONTROLLER_PORT": str(free_port()),
        "BOOKSHELF_PG_PORT": str(pg_port),
    }
    child_env |= env or {}
    system = RunningSystem(
        _launch(home, specs, child_env), f"127.0.0.1:{kafka_port}", specs, ports, home, child_env
    )
    return _ready(system, ready_timeout)


def restart_system(system: RunningSystem, ready_timeout: float | None = None) -> RunningSystem:
    """`bookshelf run` again on the stopped (or killed) ``system``'s home, ports and environment."""
    assert system.process.poll() is not None, "stop or kill the system first"
    assert system.env is not None
    process = _launch(system.home, system.services, system.env)
    return _ready(replace(system, process=process), ready_timeout)


def _launch(home: Path, specs: tuple[ServiceSpec, ...], env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bookshelf_cli.main", "run"]
    for spec in specs:
        args += ["--service", spec.name]
    return subprocess.Popen(args, env=env, stdout=(home / "run.out").open("ab"), stderr=subprocess.STDOUT)


def _ready(system: RunningSystem, ready_timeout: float | None) -> RunningSystem:
    timeout = ready_timeout or float(os.environ.get("BOOKSHELF_E2E_READY_TIMEOUT", "120"))
    try:
        for spec in system.services:
            wait_ready(system, spec.name, timeout=timeout)
    except BaseException:
        system.stop()
        raise
    return system


def wait_ready(system: RunningSystem, service: str, timeout: float = 120.0) -> None:
    """Poll a service's /readyz until 200; fails at once if `bookshelf run` exits."""

    def exited() -> str | None:
        if system.process.poll() is None:
            return None
        run_out = (system.home / "run.out").read_text(errors="replace")[-4000:]
        return f"bookshelf run exited with {system.process.returncode}\n{run_out}"

    processes.wait_ready(
        system.url(service), name=service, exited=exited, log=lambda: system.log(service), timeout=timeout
    )


class Shop:
    """HTTP steps shared by the end-to-end scenarios (books, orders, stock, shipments, sagas)."""

    def __init__(self, system: RunningSystem, client: httpx.AsyncClient) -> None:
        self.system = system
        self.client = client

    def _url(self, service: str, path: str) -> str:
        return f"{self.system.url(service)}{path}"

    async def add_book(self, title: str = "Dune", price: str = "9.99") -> str:
        """POST a book to the catalog (staff) and wait until inventory has its stock record."""
        body = {"title": title, "author": "E2E Author", "price": {"amount": price, "currency": "USD"}}
        created = await self.client.post(self._url("catalog", "/books"), json=body, headers=ADMIN)
        assert created.status_code == 201, created.text
        book_id: str = created.json()["book_id"]
        await self.wait_for(lambda: self.stock(book_id), f"inventory never created stock for {book_id}")
        return book_id

    async def place_order(
        self,
        items: list[tuple[str, int]],
        *,
        country: str = "US",
        headers: dict[str, str] | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """POST an order, retrying while ordering's catalog replica does not know a book yet (422).

        As staff by default (not rate-limited); ``anonymous`` places it as a customer. The answer
        carries the order's ``access_token``.
        """
        sent = {**({} if anonymous else ADMIN), **(headers or {})}
        body = {
            "customer": {"name": "E2E Customer", "email": "e2e@example.com"},
            "shipping_address": {
                "street": "1 Main St",
                "city": "Springfield",
                "zip_code": "12345",
                "country": country,
            },
            "items": [{"book_id": book_id, "quantity": quantity} for book_id, quantity in items],
        }

        async def placed() -> dict[str, Any]:
            answer = await self.client.post(self._url("ordering", "/orders"), json=body, headers=sent)
            assert answer.status_code == 201, answer.text
            order: dict[str, Any] = answer.json()
            return order

        if anonymous:  # a customer's retries count against the per-client rate limit: poll gently
            return await eventually(
                placed, timeout=30, interval=0.5, message="ordering never accepted the order (replica?)"
            )
        return await self.wait_for(placed, "ordering never accepted the order (replica missing a book?)")

    async def _get(self, service: str, path: str) -> dict[str, Any]:
        """GET as staff (orders, shipments, reservations and fulfillments are STAFF or ORDER)."""
        answer = await self.client.get(self._url(service, path), headers=ADMIN)
        assert answer.status_code == 200, f"GET {service}{path}: {answer.status_code} {answer.text}"
        body: dict[str, Any] = answer.json()
        return body

    async def order(self, order_id: str) -> dict[str, Any]:
        """GET /orders/{order_id} from ordering."""
        return await self._get("ordering", f"/orders/{order_id}")

    async def stock(self, book_id: str) -> dict[str, Any]:
        """GET /inventory/{book_id} from inventory."""
        return await self._get("inventory", f"/inventory/{book_id}")

    async def reservation(self, order_id: str) -> dict[str, Any]:
        """GET /reservations/{order_id} from inventory."""
        return await self._get("inventory", f"/reservations/{order_id}")

    async def saga(self, order_id: str) -> dict[str, Any]:
        """GET /fulfillments/{order_id} from the saga worker."""
        return await self._get("fulfillment", f"/fulfillments/{order_id}")

    async def shipment(self, order_id: str) -> dict[str, Any]:
        """The order's shipment from shipping (fails while there is none)."""
        page = await self._get("shipping", f"/shipments?order_id={order_id}")
        assert page["entries"], f"no shipment for order {order_id}"
        shipment: dict[str, Any] = page["entries"][0]
        return shipment

    async def staff_move(self, shipment_id: str, action: str) -> dict[str, Any]:
        """POST /shipments/{id}/dispatch or /deliver as staff."""
        answer = await self.client.post(
            self._url("shipping", f"/shipments/{shipment_id}/{action}"), headers=ADMIN
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def wait_order(self, order_id: str, status: str, within: float = 30.0) -> dict[str, Any]:
        """Poll the order until it has ``status``."""

        async def reached() -> dict[str, Any]:
            order = await self.order(order_id)
            assert order["status"] == status, order["status"]
            return order

        return await self.wait_for(reached, f"order {order_id} never reached {status}", within)

    async def wait_saga(self, order_id: str, state: str, within: float = 30.0) -> dict[str, Any]:
        """Poll the saga instance until it is in ``state``."""

        async def reached() -> dict[str, Any]:
            saga = await self.saga(order_id)
            assert saga["state"] == state, saga["state"]
            return saga

        return await self.wait_for(reached, f"saga of {order_id} never reached {state}", within)

    @staticmethod
    async def wait_for(check: Callable[[], Awaitable[T]], message: str, within: float = 30.0) -> T:
        """``eventually`` with a default deadline suited to a whole system on a small machine."""
        return await eventually(check, timeout=within, interval=0.1, message=message)
