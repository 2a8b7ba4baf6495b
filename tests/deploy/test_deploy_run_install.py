"""`make run` installs what the system needs to run and none of the test, lint and bench tools."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.deploy.deploy_support import ROOT

DEV_TOOLS = {
    "pytest",
    "ruff",
    "mypy",
    "playwright",
    "schemathesis",
    "testcontainers",
    "hypothesis",
    "pip-audit",
}


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def test_make_run_syncs_without_the_dev_group() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: setup-run ", makefile, re.M)
    setup_run = re.search(r"^setup-run:[^\n]*\n\t(?P<command>[^\n]+)", makefile, re.M)
    assert setup_run
    assert "--no-dev" in setup_run.group("command")
    assert re.search(r"^\t@\$\(UV\) run --frozen --no-sync bookshelf run$", makefile, re.M)


def test_the_run_environment_has_the_system_and_no_dev_tool(tmp_path: Path) -> None:
    env = os.environ | {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    subprocess.run(
        [*uv(), "sync", "--locked", "--quiet", "--no-dev"], cwd=ROOT, env=env, check=True, timeout=600
    )
    listed = subprocess.run(
        [*uv(), "pip", "list", "--python", str(tmp_path / "venv" / "bin" / "python"), "--format", "freeze"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    installed = {line.split("==")[0].lower() for line in listed.stdout.splitlines() if "==" in line}
    dev_group = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    declared = {re.split(r"[<>=\[ ;]", spec, maxsplit=1)[0].lower() for spec in dev_group}
    assert declared >= DEV_TOOLS
    assert not (DEV_TOOLS & installed), f"test tools in the run environment: {DEV_TOOLS & installed}"
    assert {"bookshelf-cli", "bookshelf-infra", "faust-streaming", "uvicorn"} <= installed
