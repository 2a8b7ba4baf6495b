"""The entrypoint's argument parsing, role -> runners mapping, and shutdown order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bookshelf_servicekit.app import create_app
from bookshelf_servicekit.runtime import Components, Options, parse_args, runners_for, shutdown
from bookshelf_servicekit.settings import ServiceSettings


class FakeRunner:
    def __init__(self, name: str, log: list[str], group_id: str | None = None) -> None:
        self.name, self.log, self.group_id = name, log, group_id
        self._stop = asyncio.Event()

    async def run(self) -> None:
        await self._stop.wait()
        self.log.append(f"{self.name} ended")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        self._stop.set()


class FakeEngine:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def dispose(self) -> None:
        self.log.append("dispose engine")


def components(log: list[str]) -> Components:
    return Components(
        settings=ServiceSettings(),
        app=create_app("t", admin_token="x"),
        engine=FakeEngine(log),  # type: ignore[arg-type]
        kafka=None,
        relay=FakeRunner("relay", log),
        consumers=[FakeRunner("c1", log, group_id="svc.one"), FakeRunner("c2", log)],
    )


def test_options_default_to_settings() -> None:
    assert parse_args("svc", []) == Options()
    options = parse_args("svc", ["--role", "consumers", "--port", "9100", "--host", "0.0.0.0"])
    assert options.overrides() == {"role": "consumers", "host": "0.0.0.0", "port": 9100}


def test_unknown_role_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        parse_args("svc", ["--role", "web"])
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("role", "names"),
    [
        ("all", ["relay", "consumer:svc.one", "consumer-1"]),
        ("api", []),
        ("relay", ["relay"]),
        ("consumers", ["consumer:svc.one", "consumer-1"]),
    ],
)
def test_runners_per_role(role: Any, names: list[str]) -> None:
    assert [name for name, _ in runners_for(role, components([]))] == names


async def test_shutdown_stops_consumers_before_the_relay_then_disposes_the_engine() -> None:
    log: list[str] = []
    built = components(log)
    runners = runners_for("all", built)
    tasks = {name: asyncio.create_task(runner.run()) for name, runner in runners}
    await asyncio.sleep(0)
    await shutdown(built, runners, tasks)
    assert log.index("stop relay") > log.index("stop c1")
    assert log.index("stop relay") > log.index("stop c2")
    assert log[-1] == "dispose engine"
    assert all(task.done() for task in tasks.values())
