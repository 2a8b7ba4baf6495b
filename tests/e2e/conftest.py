"""End-to-end fixtures: one system for the session, started through `bookshelf run`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.system import RunningSystem, start_system


@pytest.fixture(scope="session")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = start_system(tmp_path_factory.mktemp("bookshelf-home"))
    yield system
    status = system.stop()
    assert status == 0, (
        f"bookshelf run exited with {status} on Ctrl-C\n{(system.home / 'run.out').read_text()}"
    )
