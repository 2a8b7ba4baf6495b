"""`bookshelf import books` against the running system: good rows land in the catalog, bad rows are
reported with their file row numbers and reasons."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import orjson
from bookshelf_infra.testing import eventually

from tests.e2e.system import RunningSystem


async def test_import_reports_rejected_rows_and_imports_the_rest(
    running_system: RunningSystem, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    csv_file = tmp_path / "books.csv"
    csv_file.write_text(
        "title,author,isbn,price,currency\n"
        f"CLI Import A {tag},Ann,,9.99,USD\n"
        f"CLI Import B {tag},Bob,,abc,USD\n"
        "\n"
        f'"CLI Import, C {tag}",Cy,,5.00,EUR\n'
        ",Nobody,,3.00,USD\n"
        f"CLI Import D {tag},Di,,4.50,GBP\n"
    )
    answer = running_system.cli_in_process("import", "books", str(csv_file), "--chunk-size", "2", "--json")
    assert answer.returncode == 1, answer.stderr  # some rows were rejected
    summary = orjson.loads(answer.stdout)
    assert (summary["rows"], summary["accepted"]) == (5, 3)
    assert [r["row"] for r in summary["rejected"]] == [2, 4]
    assert summary["rejected"][0]["errors"][0]["field"] == "price"
    assert len(summary["import_ids"]) == 3

    async def in_catalog() -> bool:
        async with httpx.AsyncClient(base_url=running_system.url("catalog")) as client:
            page = (await client.get("/books", params={"limit": 100})).json()
        titles = {b["title"] for b in page["entries"]}
        return {f"CLI Import A {tag}", f"CLI Import, C {tag}", f"CLI Import D {tag}"} <= titles

    await eventually(in_catalog, timeout=30, interval=0.5, message="imported books not in the catalog")


def test_import_for_people_and_bad_input(running_system: RunningSystem, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"title,author,price\nCLI Import E {uuid.uuid4().hex[:8]},Eve,7.00\n")
    shown = running_system.cli("import", "books", str(good))
    assert shown.returncode == 0, shown.stderr
    assert "1 row accepted, 0 rejected" in shown.stdout

    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("name,price\nX,1.00\n")
    refused = running_system.cli_in_process("import", "books", str(bad_header))
    assert refused.returncode == 1
    assert "422" in refused.stderr
    assert "header" in refused.stderr
    assert running_system.cli_in_process("import", "books", str(tmp_path / "missing.csv")).returncode == 2
