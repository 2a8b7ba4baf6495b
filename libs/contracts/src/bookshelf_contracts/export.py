"""Export the JSON Schema of every contract: ``python -m bookshelf_contracts.export [--check] [--out DIR]``.

Writes ``<Type>.v<version>.json`` per contract (current and superseded versions), ``envelope.json`` and
``asyncapi.json`` (the topics, AsyncAPI 3.0); ``--check`` writes nothing and exits 1 listing the files
that differ, are missing or are stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bookshelf_contracts.asyncapi import render_asyncapi
from bookshelf_contracts.base import Command, Message
from bookshelf_contracts.envelope import Envelope
from bookshelf_contracts.registry import CONTRACTS
from bookshelf_contracts.topics import topic_for, topic_spec
from bookshelf_contracts.upcasters import LEGACY_CONTRACTS

# libs/contracts/schemas (this file is libs/contracts/src/bookshelf_contracts/export.py)
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _message_schema(cls: type[Message]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="serialization")
    topic = topic_for(cls.TYPE)
    schema["x-bookshelf"] = {
        "type": cls.TYPE,
        "version": cls.VERSION,
        "kind": "command" if issubclass(cls, Command) else "event",
        "topic": topic,
        "key": topic_spec(topic).key_field,
    }
    return schema


def render_schemas() -> dict[str, str]:
    """File name -> file content of every schema, computed in memory."""
    files = {f"{cls.TYPE}.v{cls.VERSION}.json": _dump(_message_schema(cls)) for cls in CONTRACTS}
    for cls in LEGACY_CONTRACTS:
        schema = _message_schema(cls)
        schema["x-bookshelf"]["superseded"] = True
        files[f"{cls.TYPE}.v{cls.VERSION}.json"] = _dump(schema)
    files["envelope.json"] = _dump(Envelope.model_json_schema(mode="serialization"))
    files["asyncapi.json"] = _dump(render_asyncapi())
    return dict(sorted(files.items()))


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of files in ``directory`` that differ from the models, are missing, or are stale."""
    expected = render_schemas()
    problems = []
    for name, content in expected.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} (missing)")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{name} (differs)")
    if directory.is_dir():
        stale = {p.name for p in directory.glob("*.json")} - expected.keys()
        problems.extend(f"{name} (stale: no such contract)" for name in sorted(stale))
    return problems


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write every schema to ``directory``, delete stale ones, and return the names that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = [problem.split(" ")[0] for problem in drift(directory)]
    expected = render_schemas()
    for name, content in expected.items():
        (directory / name).write_text(content, encoding="utf-8")
    for path in directory.glob("*.json"):
        if path.name not in expected:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bookshelf_contracts.export", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when schemas drifted")
    parser.add_argument("--out", type=Path, default=SCHEMA_DIR, help=f"schema folder (default {SCHEMA_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.out)
        if problems:
            print(f"{len(problems)} schema file(s) out of date in {args.out}:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            print("run: uv run python -m bookshelf_contracts.export", file=sys.stderr)
            return 1
        print(f"schemas up to date ({len(render_schemas())} files in {args.out})")
        return 0
    changed = write(args.out)
    print(f"wrote {len(render_schemas())} schema files to {args.out} ({len(changed)} changed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
