"""CSV chunking and row renumbering of `bookshelf import books` (no catalog)."""

from __future__ import annotations

import csv
import io

from bookshelf_cli.importer import ImportSummary, chunks, read_records, reasons, summary_view
from rich.console import Console

CSV = 'title,author,isbn,price,currency\nA,Ann,,9.99,USD\n\n"Comma, Title",Bob,,1.00,EUR\n"Two\nlines",Cy,,2.00,USD\n'


def test_records_skip_blank_lines_and_keep_quoted_fields() -> None:
    header, records = read_records(CSV)
    assert header == ["title", "author", "isbn", "price", "currency"]
    assert [r[0] for r in records] == ["A", "Comma, Title", "Two\nlines"]
    assert read_records("") == ([], [])


def test_each_chunk_is_a_csv_with_the_header_and_its_first_record_number() -> None:
    header, records = read_records(CSV)
    parts = list(chunks(header, records, 2))
    assert [(first, count) for first, count, _ in parts] == [(1, 2), (3, 1)]
    for _, count, body in parts:
        rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
        assert rows[0] == header
        assert len(rows) == count + 1
    last = list(csv.reader(io.StringIO(parts[1][2].decode(), newline="")))
    assert last[1][0] == "Two\nlines"


def test_rejected_rows_are_renumbered_to_the_file() -> None:
    summary = ImportSummary("books.csv", 7000)
    error = {"field": "price", "message": "must be a number like 12.99, got 'abc'"}
    summary.add(
        {"import_id": "i1", "accepted": 4999, "rejected": [{"row": 3, "errors": [error]}]}, first_row=1
    )
    summary.add(
        {"import_id": "i2", "accepted": 1999, "rejected": [{"row": 2, "errors": [error]}]}, first_row=5001
    )
    assert summary.accepted == 6998
    assert [r["row"] for r in summary.rejected] == [3, 5002]
    assert summary.to_json()["import_ids"] == ["i1", "i2"]
    assert reasons(summary.rejected[0]) == "price: must be a number like 12.99, got 'abc'"


def test_summary_lists_the_first_rejections_and_says_how_to_see_all() -> None:
    summary = ImportSummary("books.csv", 60)
    summary.add(
        {"import_id": "i", "accepted": 0, "rejected": [{"row": n, "errors": []} for n in range(1, 61)]}, 1
    )
    console = Console(width=120, record=True)
    console.print(summary_view(summary))
    text = console.export_text()
    assert "0 rows accepted, 60 rejected" in text
    assert "10 more" in text
    assert summary_view(ImportSummary("ok.csv", 1, accepted=1)) == "ok.csv: 1 row accepted, 0 rejected"
