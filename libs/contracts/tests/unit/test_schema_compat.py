"""Published message schemas only gain optional fields: the rule, and the committed files against
the version each one was first committed with."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bookshelf_contracts.compat import problems
from bookshelf_contracts.export import SCHEMA_DIR

OLD = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "pages": {"type": "integer", "description": "count"}},
    "required": ["title"],
}


def test_adding_an_optional_field_or_rewording_is_compatible() -> None:
    new = json.loads(json.dumps(OLD))
    new["properties"]["subtitle"] = {"type": "string"}
    new["properties"]["pages"]["description"] = "how many pages"
    assert problems(OLD, new) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["properties"].pop("pages"), "pages: removed"),
        (lambda s: s["required"].append("pages"), "pages: now required"),
        (lambda s: s["properties"].__setitem__("isbn", {"type": "string"}) or s["required"].append("isbn"),
         "isbn: now required"),
        (lambda s: s["properties"].__setitem__("pages", {"type": "string"}), "pages: type changed"),
    ],
)  # fmt: skip
def test_breaking_changes_are_named(change: object, expected: str) -> None:
    new = json.loads(json.dumps(OLD))
    change(new)  # type: ignore[operator]
    assert expected in problems(OLD, new)


def _git(*args: str) -> str:
    root = SCHEMA_DIR.parents[2]
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def test_every_committed_schema_is_compatible_with_its_first_committed_version() -> None:
    if shutil.which("git") is None or not (SCHEMA_DIR.parents[2] / ".git").exists():
        pytest.skip("not a git checkout: no history to compare with")
    found: dict[str, list[str]] = {}
    compared = 0
    for path in sorted(SCHEMA_DIR.glob("*.v*.json")):
        relative = path.relative_to(SCHEMA_DIR.parents[2]).as_posix()
        added = _git("log", "--diff-filter=A", "--format=%H", "--", relative).split()
        if not added:
            continue  # not committed yet: it is its own first version
        first = json.loads(_git("show", f"{added[-1]}:{relative}"))
        compared += 1
        if issues := problems(first, json.loads(path.read_text())):
            found[Path(relative).name] = issues
    assert compared > 20
    assert not found, f"published schemas changed incompatibly (publish a new version instead): {found}"
