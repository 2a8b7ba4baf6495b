"""`make up`, `make down` and `make logs` drive docker compose on the files docs/deploy.md names."""

from __future__ import annotations

import re

import pytest

from tests.deploy.deploy_support import COMPOSE_FILE, ROOT

pytestmark = pytest.mark.unit


def recipe(target: str) -> str:
    """The first command of a Makefile target."""
    match = re.search(rf"^{target}:[^\n]*\n\t(?P<command>[^\n]+)", (ROOT / "Makefile").read_text(), re.M)
    assert match, f"the Makefile has no target {target}"
    return match.group("command")


def test_compose_variables_default_to_docker_compose_on_the_base_file() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^COMPOSE \?= docker compose$", makefile, re.M)
    assert re.search(rf"^COMPOSE_FILES \?= -f {COMPOSE_FILE.name}$", makefile, re.M)


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("up", "$(COMPOSE) $(COMPOSE_FILES) up -d --build --wait"),
        ("down", "$(COMPOSE) $(COMPOSE_FILES) down"),
        ("logs", "$(COMPOSE) $(COMPOSE_FILES) logs -f"),
    ],
)
def test_up_down_and_logs_run_docker_compose(target: str, command: str) -> None:
    assert recipe(target).startswith(command)


def test_the_forge_workflow_runs_what_ci_runs() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    assert steps == ci == ["make lint", "make test"]
