"""POST /books/import (STAFF): a CSV file or a JSON array of books, up to 20 MiB."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import orjson
import structlog
from bookshelf_servicekit.auth import Staff
from bookshelf_servicekit.errors import InvalidInput
from bookshelf_servicekit.middleware import MIB
from bookshelf_servicekit.responses import OrjsonResponse
from fastapi import APIRouter, HTTPException, Request
from prometheus_client import Counter

from bookshelf_catalog.entrypoints.deps import Bus
from bookshelf_catalog.entrypoints.schemas import ImportAccepted
from bookshelf_catalog.service_layer.commands import ImportBooks
from bookshelf_catalog.service_layer.handlers import ImportResult
from bookshelf_catalog.service_layer.importing import EXTRA_COLUMNS

IMPORT_PATH = "/books/import"
IMPORT_BODY_LIMIT = 20 * MIB
CSV_REQUIRED = ("title", "author", "price")
CSV_COLUMNS = ("title", "author", "isbn", "price", "currency")

router = APIRouter(tags=["books"])
log = structlog.get_logger("bookshelf.catalog.import")
IMPORT_ROWS = Counter("catalog_import_rows_total", "Rows of bulk imports, by outcome", ["outcome"])


def parse_csv(body: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV with header ``title,author,isbn,price,currency`` (isbn, currency optional)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "the CSV is not UTF-8 text", [("body", f"not UTF-8 at byte {exc.start}")]
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=EXTRA_COLUMNS)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in CSV_REQUIRED if name not in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if missing or unknown:
        problems = [("header", f"missing column {name!r}") for name in missing]
        problems += [("header", f"unknown column {name!r}") for name in unknown]
        raise InvalidInput(f"the CSV header must be {','.join(CSV_COLUMNS)}", problems)
    reader.fieldnames = header
    return list(reader)  # blank lines are skipped; row numbers count the records that remain


def parse_json(body: bytes) -> list[Any]:
    """Elements of a JSON array of books."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("the body is not valid JSON", [("body", str(exc))]) from None
    if not isinstance(data, list):
        raise InvalidInput("the body must be a JSON array of books", [("body", "must be a JSON array")])
    return data


def _result_json(result: ImportResult) -> dict[str, Any]:
    return {"import_id": str(result.import_id), "accepted": result.accepted, "rejected": result.rejected}


@router.post(
    IMPORT_PATH,
    status_code=202,
    response_model=ImportAccepted,
    responses={
        401: {"description": "missing or bad staff token"},
        413: {"description": "body over 20 MiB"},
        415: {"description": "neither text/csv nor application/json"},
        422: {"description": "bad header, not a JSON array, or not UTF-8"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        }
    },
)
async def import_books(request: Request, _: Staff, bus: Bus) -> OrjsonResponse:
    """Import books (STAFF): every row is validated; accepted rows are stored and published as
    BookAdded on ``catalog.books.bulk``; rejected rows are listed with their reasons."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if content_type == "text/csv":
        records: list[Any] = parse_csv(body)
    elif content_type == "application/json" or content_type.endswith("+json"):
        records = parse_json(body)
    else:
        raise HTTPException(
            415, f"send text/csv or application/json, not {content_type or 'no content type'!r}"
        )
    started = time.perf_counter()
    result: ImportResult = await bus.handle(ImportBooks(records=records))
    IMPORT_ROWS.labels("accepted").inc(result.accepted)
    IMPORT_ROWS.labels("rejected").inc(len(result.rejected))
    log.info(
        "books imported",
        import_id=str(result.import_id),
        accepted=result.accepted,
        rejected=len(result.rejected),
        seconds=round(time.perf_counter() - started, 3),
    )
    return OrjsonResponse(_result_json(result), status_code=202)
