"""docs/quickstart.md, run against the running system: every command of its console blocks, with its
placeholders filled in (ORDER, SHIPMENT, LETTER), and every `# expect:` line found in the output."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from bookshelf_cli.services import SERVICES
from bookshelf_infra.testing import eventually

from tests.e2e.system import RunningSystem

PAGE = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Step:
    command: str
    expect: list[str] = field(default_factory=list)


def steps(markdown: str) -> list[Step]:
    """The commands of the page's ```console blocks, each with the `# expect:` lines after it."""
    found: list[Step] = []
    for block in re.findall(r"```console\n(.*?)```", markdown, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append(Step(line[2:].strip()))
            elif line.startswith("# expect: "):
                found[-1].expect.append(line.removeprefix("# expect: "))
    return found


def test_the_page_has_the_steps_it_promises() -> None:
    commands = [s.command for s in steps(PAGE.read_text())]
    assert commands[0] == "make run"
    assert "uv run bookshelf demo" in commands
    assert sum(s.startswith("curl ") for s in commands) == 3


class Reader:
    """Runs one step the way a person would, against ``system``; remembers the placeholders."""

    def __init__(self, system: RunningSystem) -> None:
        self.system = system
        self.values: dict[str, str] = {}
        self.ports = {str(spec.port): system.url(spec.name) for spec in SERVICES if spec.name in system.ports}

    def fill(self, command: str) -> str:
        for name, value in self.values.items():
            command = re.sub(rf"\b{name}\b", value, command)
        return command

    def run(self, command: str) -> str:
        args = shlex.split(self.fill(command))
        if args[:3] == ["uv", "run", "bookshelf"]:
            done = self.system.cli(*args[3:], timeout=300)
            assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
            return done.stdout
        assert args[0] == "curl", command
        return self.curl(args[1:])

    def curl(self, args: list[str]) -> str:
        method, headers, url = "GET", {}, ""
        while args:
            arg = args.pop(0)
            if arg == "-X":
                method = args.pop(0)
            elif arg == "-H":
                name, _, value = args.pop(0).partition(": ")
                headers[name] = value
            elif not arg.startswith("-"):
                url = arg
        host, _, path = url.partition("/")
        base = self.ports[host.rsplit(":", 1)[1]]
        answer = httpx.request(method, f"{base}/{path}", headers=headers, timeout=15.0)
        assert answer.is_success, f"curl {url}: {answer.status_code} {answer.text}"
        return answer.text

    def learn(self, command: str, output: str) -> None:
        """Fill ORDER from the demo's table, SHIPMENT from the shipment list, LETTER from the DLQ."""
        if command.endswith("bookshelf demo"):
            fulfilled = next(line for line in output.splitlines() if "fulfilled: waits for dispatch" in line)
            self.values["ORDER"] = UUID.findall(fulfilled)[0]
        elif "/shipments?order_id=" in command:
            self.values["SHIPMENT"] = orjson.loads(output)["entries"][0]["shipment_id"]
        elif command.endswith("dlq list --topic catalog.books"):
            listed = self.system.cli("dlq", "list", "--topic", "catalog.books", "--json")
            entries = orjson.loads(listed.stdout)["entries"]
            self.values["LETTER"] = next(e["id"] for e in entries if e["key"] == "demo-poison")


@pytest.mark.timeout(900)
async def test_every_command_of_the_quickstart_answers_what_the_page_says(
    running_system: RunningSystem,
) -> None:
    reader = Reader(running_system)
    for step in steps(PAGE.read_text())[1:]:  # `make run`: the system is running

        async def answered(step: Step = step) -> str:
            output = reader.run(step.command)
            missing = [e for e in step.expect if e not in output]
            assert not missing, f"{step.command}: {missing} not in\n{output[-3000:]}"
            return output

        # A step waits for the one before it to have travelled the system (a saga hop, a dead letter).
        output = await eventually(answered, timeout=60, interval=1.0, message=step.command)
        reader.learn(step.command, output)
