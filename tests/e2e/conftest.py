"""End-to-end fixtures: one system for the session, started through `bookshelf run`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.system import RunningSystem, start_system, system_home


@pytest.fixture(scope="session")
def running_system() -> Iterator[RunningSystem]:
    with system_home("bookshelf-home") as home:
        system = start_system(home)
        yield system
        status = system.stop()
        assert status == 0, (
            f"bookshelf run exited with {status} on Ctrl-C\n{(system.home / 'run.out').read_text()}"
        )
