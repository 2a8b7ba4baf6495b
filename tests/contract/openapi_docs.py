"""The committed OpenAPI documents: ``python -m tests.contract.openapi_docs [--check]`` (``make api-docs``).

Writes ``docs/reference/openapi/<service>.json`` from each FastAPI app, built the way its bootstrap
wires it (``harness.SERVICES``; nothing is connected). ``--check`` (run by ``make lint``) writes
nothing and exits 1 naming the documents that differ from the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bookshelf_messaging import KafkaSettings

from tests.contract.harness import SERVICES, UNREACHABLE, UNUSED_DATABASE

OUT = Path(__file__).resolve().parents[2] / "docs" / "reference" / "openapi"


def render() -> dict[str, str]:
    """File name -> document text of every service."""
    kafka = KafkaSettings(bootstrap_servers=UNREACHABLE)
    documents = {}
    for name, spec in SERVICES.items():
        app = spec.build(UNUSED_DATABASE, kafka).app
        documents[f"{name}.json"] = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.contract.openapi_docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a document drifted")
    args = parser.parse_args(argv)
    documents = render()
    drifted = [n for n, text in documents.items() if not (OUT / n).is_file() or (OUT / n).read_text() != text]
    stale = sorted({p.name for p in OUT.glob("*.json")} - documents.keys()) if OUT.is_dir() else []
    if args.check:
        if drifted or stale:
            print(f"OpenAPI documents out of date in {OUT}: {', '.join(drifted + stale)}", file=sys.stderr)
            print("run: make api-docs", file=sys.stderr)
            return 1
        print(f"OpenAPI documents up to date ({len(documents)} in {OUT})")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        (OUT / name).write_text(text)
    for name in stale:
        (OUT / name).unlink()
    print(f"wrote {len(documents)} OpenAPI documents to {OUT} ({len(drifted)} changed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
