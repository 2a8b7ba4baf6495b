"""`bookshelf import books FILE.csv`: bulk import through catalog's POST /books/import, in chunks.

Each chunk is a CSV of its own (the file's header plus up to `--chunk-size` records) so no request
nears the 20 MiB limit and the progress bar moves; catalog numbers rows per request, which is mapped
back to the file's record numbers (1 = first record after the header; blank lines are not records).
Accepted rows travel the bulk lane, so orders are never delayed by an import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bookshelf_cli.connect import START_HINT, admin_token, service_url
from bookshelf_cli.output import EXIT_FAILED, EXIT_USAGE, emit_json, err, fail, out, plural

import_app = typer.Typer(help="Bulk imports (through the bulk lane).", no_args_is_help=True)
SHOWN_REJECTIONS = 50


@dataclass
class ImportSummary:
    """What the catalog accepted and rejected over every chunk."""

    file: str
    rows: int
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    import_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "import_ids": self.import_ids,
        }

    def add(self, answer: dict[str, Any], first_row: int) -> None:
        """Fold one chunk's 202 answer in, renumbering its rows to the file's record numbers."""
        self.accepted += int(answer.get("accepted", 0))
        self.import_ids.append(str(answer.get("import_id")))
        for rejection in answer.get("rejected", []):
            self.rejected.append({**rejection, "row": first_row - 1 + int(rejection["row"])})


def read_records(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and the data records of a CSV (blank lines dropped, as catalog does)."""
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    if not rows:
        return [], []
    return rows[0], rows[1:]


def chunks(header: list[str], records: list[list[str]], size: int) -> Iterator[tuple[int, int, bytes]]:
    """``(first record number, record count, CSV body)`` per chunk of at most ``size`` records."""
    for start in range(0, len(records), size):
        part = records[start : start + size]
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(part)
        yield start + 1, len(part), buffer.getvalue().encode()


def reasons(rejection: dict[str, Any]) -> str:
    """``price: must be a number like 12.99, got 'abc'; isbn: ...``."""
    return "; ".join(f"{e.get('field')}: {e.get('message')}" for e in rejection.get("errors", []))


def _problem(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:300]
    details = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
    return f"{body.get('detail') or body.get('title')}{f' ({details})' if details else ''}"


def _refused(answer: httpx.Response, url: str, first_row: int) -> None:
    """Exit with what the catalog said and what to do about it."""
    done = f"records before {first_row} were imported; " if first_row > 1 else ""
    steps = {
        401: "set BOOKSHELF_ADMIN_TOKEN to the catalog's staff token",
        413: "use a smaller --chunk-size",
        422: "fix the file (header: title,author,isbn,price,currency) and import again",
    }
    next_step = steps.get(answer.status_code, f"check the catalog's log; {START_HINT}")
    fail(f"{url} answered {answer.status_code}: {_problem(answer)}", done + next_step)


def _post_all(
    client: httpx.Client,
    url: str,
    header: list[str],
    records: list[list[str]],
    size: int,
    summary: ImportSummary,
    progress: Progress,
) -> None:
    task = progress.add_task("importing", total=len(records))
    for first_row, count, body in chunks(header, records, size):
        try:
            answer = client.post(url, content=body, headers={"Content-Type": "text/csv"})
        except httpx.HTTPError as exc:
            fail(f"cannot reach the catalog at {url}: {exc}", f"{START_HINT}, or pass --catalog-url")
        if answer.status_code != 202:
            _refused(answer, url, first_row)
        summary.add(answer.json(), first_row)
        progress.advance(task, count)


def summary_view(summary: ImportSummary) -> RenderableType:
    """The counts, then the rejected rows with their reasons (the first 50) for people."""
    line = f"{summary.file}: {plural(summary.accepted, 'row')} accepted, {len(summary.rejected)} rejected"
    if not summary.rejected:
        return line
    table = Table(title="Rejected rows", title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("reasons")
    for rejection in summary.rejected[:SHOWN_REJECTIONS]:
        table.add_row(str(rejection["row"]), escape(reasons(rejection)))
    more = len(summary.rejected) - SHOWN_REJECTIONS
    tail = [f"... and {more} more (`--json` lists all)"] if more > 0 else []
    return Group(escape(line), table, *tail)


@import_app.command("books")
def import_books(
    file: Annotated[
        Path, typer.Argument(help="CSV with header title,author,price (+ optional isbn,currency).")
    ],
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, max=50_000, help="Records per request.")
    ] = 5000,
    catalog_url: Annotated[str | None, typer.Option("--catalog-url", help="Catalog base URL.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Import books from a CSV through the bulk lane, with a progress bar and the rejected rows' reasons.

    Exit status 1 when any row was rejected (the others are imported)."""
    try:
        header, records = read_records(file.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}", "pass a UTF-8 CSV file", EXIT_USAGE)
    if not records:
        fail(
            f"{file} has no data rows",
            "add rows under the header title,author,isbn,price,currency",
            EXIT_USAGE,
        )
    url = f"{(catalog_url or service_url('catalog')).rstrip('/')}/books/import"
    summary = ImportSummary(str(file), len(records))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        httpx.Client(timeout=300, headers={"Authorization": f"Bearer {admin_token()}"}) as client,
        Progress(*columns, console=err, disable=json_output) as progress,
    ):
        _post_all(client, url, header, records, chunk_size, summary, progress)
    if json_output:
        emit_json(summary.to_json())
    else:
        out.print(summary_view(summary))
    if summary.rejected:
        raise typer.Exit(EXIT_FAILED)
