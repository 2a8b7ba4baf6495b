"""The process entrypoint of every service: ``python -m bookshelf_<name> [--role ...]``.

``run_service(name, build_components, argv)`` parses ``--role all|api|relay|consumers --host --port``,
builds the service's components (its bootstrap), prepares topics (and, in dev mode, migrates the
database), then runs uvicorn plus the background runners of the role until SIGTERM/SIGINT. Shutdown
order: stop taking requests, stop consumer runners, stop the relay, dispose of the engine.

Every role serves HTTP: ``api``/``all`` the full app, ``relay``/``consumers`` only the operational
endpoints (``/healthz``, ``/readyz``, ``/metrics``) so probes and scraping work for every process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_servicekit.app import create_app, readiness_of
from bookshelf_servicekit.health import database_check, kafka_check, running_check
from bookshelf_servicekit.logging import configure_logging
from bookshelf_servicekit.settings import ROLES, InsecureSettingsError, Role, ServiceSettings
from bookshelf_servicekit.telemetry import configure_tracing, instrument_app, shutdown_tracing

log = structlog.get_logger("bookshelf.runtime")
STOP_TIMEOUT_S = 15.0
# After a stop signal the process exits within this time even if a step of the graceful shutdown
# hangs (a producer flushing to a broker that is gone too, a thread the event loop waits for): when
# the whole machine stops at once, e.g. every child of a killed `bookshelf run`, nobody else would
# ever SIGKILL it. Work not committed is redone by whoever comes next (outbox, inbox, offsets).
EXIT_DEADLINE_S = 2 * STOP_TIMEOUT_S + 10


class Runner(Protocol):
    """A background loop: the outbox relay or a consumer runner."""

    async def run(self) -> None: ...

    def stop(self) -> Any: ...


@dataclass
class Components:
    """What a service's bootstrap hands to the runtime."""

    settings: ServiceSettings
    app: FastAPI
    engine: AsyncEngine
    kafka: Any  # bookshelf_messaging.KafkaSettings
    relay: Runner | None = None
    consumers: Sequence[Runner] = ()
    alembic_dir: Path | None = None
    extra_tasks: Sequence[Runner] = field(default_factory=tuple)


@dataclass(frozen=True)
class Options:
    """Command-line choices, applied on top of the settings."""

    role: Role | None = None
    host: str | None = None
    port: int | None = None

    def overrides(self) -> dict[str, Any]:
        """The options that were given, as settings keyword arguments."""
        return {
            k: v for k, v in (("role", self.role), ("host", self.host), ("port", self.port)) if v is not None
        }


def parse_args(name: str, argv: Sequence[str] | None) -> Options:
    """``--role``, ``--host``, ``--port`` (each defaults to the service settings)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bookshelf_{name}", description=f"Run the {name} service."
    )
    parser.add_argument("--role", choices=ROLES, help="what this process runs (default: settings, 'all')")
    parser.add_argument("--host", help="HTTP bind address")
    parser.add_argument("--port", type=int, help="HTTP port")
    args = parser.parse_args(argv)
    return Options(role=args.role, host=args.host, port=args.port)


def runners_for(role: Role, components: Components) -> list[tuple[str, Runner]]:
    """The background runners a role runs, with a name for readiness and logs."""
    runners: list[tuple[str, Runner]] = []
    if role in ("all", "relay") and components.relay is not None:
        runners.append(("relay", components.relay))
    if role in ("all", "consumers"):
        runners.extend((_runner_name(r, i), r) for i, r in enumerate(components.consumers))
        runners.extend((f"task-{i}", t) for i, t in enumerate(components.extra_tasks))
    return runners


class GracefulServer(uvicorn.Server):
    """uvicorn whose signal handling is the runtime's: uvicorn's own re-raises the signal after
    ``serve()`` returns, which would kill the process before runners are stopped."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def install_signal_handlers(server: uvicorn.Server) -> None:
    """SIGTERM/SIGINT end ``serve()`` gracefully; a second SIGINT forces uvicorn to stop waiting."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if server.should_exit and sig == signal.SIGINT:
            server.force_exit = True
        if not server.should_exit:
            arm_exit_deadline(EXIT_DEADLINE_S)
        server.should_exit = True
        log.info("signal received; shutting down", signal=sig.name)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)


def arm_exit_deadline(seconds: float) -> threading.Thread:
    """End the process with status 70 unless it has exited ``seconds`` from now (a daemon thread)."""

    def expire() -> None:
        time.sleep(seconds)  # the deadline itself, in a thread of its own
        log.error("graceful shutdown exceeded its deadline; exiting now", seconds=seconds)
        os._exit(70)

    thread = threading.Thread(target=expire, name="bookshelf-exit-deadline", daemon=True)
    thread.start()
    return thread


def _runner_name(runner: Runner, index: int) -> str:
    group = getattr(runner, "group_id", None)
    return f"consumer:{group}" if group else f"consumer-{index}"


def _is_running(runner: Runner, task: asyncio.Task[None]) -> Callable[[], bool]:
    def check() -> bool:
        flag = getattr(runner, "is_running", None)
        if flag is not None:
            return bool(flag() if callable(flag) else flag)
        return not task.done()

    return check


async def serve(name: str, components: Components, options: Options) -> int:
    """Run the role until a signal (or a crashed runner); returns the exit status."""
    settings = components.settings
    role: Role = options.role or settings.role
    app = components.app if role in ("all", "api") else create_app(name, settings=settings)
    instrument_app(app)
    readiness = readiness_of(app)
    readiness.add("database", database_check(components.engine))
    readiness.add("kafka", kafka_check(components.kafka))

    tasks: dict[str, asyncio.Task[None]] = {}
    server = GracefulServer(
        uvicorn.Config(
            app,
            host=options.host or settings.host,
            port=options.port if options.port is not None else settings.port,
            http="httptools",
            access_log=False,
            log_config=None,
            lifespan="on",
        )
    )
    failed = False

    def on_done(task: asyncio.Task[None]) -> None:
        nonlocal failed
        if not task.cancelled() and task.exception() is not None and not server.should_exit:
            failed = True
            log.error(
                "background runner crashed; shutting down", runner=task.get_name(), exc_info=task.exception()
            )
            server.should_exit = True

    for runner_name, runner in runners_for(role, components):
        task = asyncio.create_task(runner.run(), name=runner_name)
        task.add_done_callback(on_done)
        tasks[runner_name] = task
        readiness.add(runner_name, running_check(runner_name, _is_running(runner, task)))
    install_signal_handlers(server)
    log.info("service started", service=name, role=role, runners=list(tasks), port=server.config.port)
    try:
        await server.serve()
    finally:
        await shutdown(components, runners_for(role, components), tasks)
        await asyncio.to_thread(shutdown_tracing)  # export the spans still buffered
        log.info("service stopped", service=name, role=role, failed=failed)
    return 1 if failed else 0


async def shutdown(
    components: Components, runners: Sequence[tuple[str, Runner]], tasks: dict[str, asyncio.Task[None]]
) -> None:
    """Stop consumer runners first, then the relay (it publishes what they wrote), then the engine."""
    ordered = sorted(runners, key=lambda item: item[0] == "relay")
    for runner_name, runner in ordered:
        with contextlib.suppress(Exception):
            result = runner.stop()
            if inspect.isawaitable(result):
                await result
        task = tasks.get(runner_name)
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            if not done:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
    await components.engine.dispose()


async def prepare(components: Components) -> None:
    """Create the topics that are missing (the first process to start may be this one); migrate in
    dev mode."""
    from bookshelf_messaging.admin import ensure_topics

    await ensure_topics(components.kafka)
    if components.settings.is_dev and components.alembic_dir is not None:
        from bookshelf_servicekit.migrations import upgrade_head_async

        await upgrade_head_async(components.alembic_dir, components.settings.database_url)


def run_service(
    name: str, build_components: Callable[[Options], Components], argv: Sequence[str] | None = None
) -> None:
    """Parse arguments, build the components and serve until stopped; exits the process."""
    options = parse_args(name, argv)
    try:
        components = build_components(options)
        configure_logging(name)
        configure_tracing(name)
    except (InsecureSettingsError, ValidationError, ValueError) as exc:
        print(f"{name}: refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    async def main() -> int:
        await prepare(components)
        return await serve(name, components, options)

    try:
        import uvloop

        status = uvloop.run(main())
    except KeyboardInterrupt:
        status = 0
    raise SystemExit(status)
