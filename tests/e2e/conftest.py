"""End-to-end fixtures: one system for the session, started through `bookshelf run`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from bookshelf_infra.otlp import OtlpReceiver, otlp_receiver
from playwright.async_api import BrowserContext, async_playwright

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS, WAIT_MS
from tests.e2e.system import RunningSystem, start_system, system_home


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """An OTLP receiver the session's system exports its traces to (docs/observability.md)."""
    with otlp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def running_system(otlp: OtlpReceiver) -> Iterator[RunningSystem]:
    """The session's system, with tracing on: every end-to-end test also runs the span code paths."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with system_home("bookshelf-home") as home:
        system = start_system(home, env=env)
        yield system
        status = system.stop()
        assert status == 0, (
            f"bookshelf run exited with {status} on Ctrl-C\n{(system.home / 'run.out').read_text()}"
        )


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Chromium with a new, empty profile."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context.set_default_timeout(WAIT_MS)
        yield context
        await context.close()
