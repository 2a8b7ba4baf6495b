"""problem+json (RFC 9457) responses and the registry mapping domain exceptions to them.

Every error answer of every service has the shape of docs/reference/http.md::

    {"type", "title", "status", "detail", "errors": [{"field", "message"}], "correlation_id"}

Services register their domain exceptions once (``{BookNotFound: 404, DuplicateIsbn: 409}``); an
exception may carry ``errors`` (``[(field, message)]`` or ``[{"field", "message"}]``) that are copied
into the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://bookshelf.dev/problems/"
CORRELATION_HEADER = "X-Correlation-ID"

FieldErrors = Sequence[Mapping[str, str]]


def problem_type(slug: str) -> str:
    """The ``type`` URI of a problem slug, e.g. ``not-found``."""
    return f"{PROBLEM_BASE}{slug}"


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return "error"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemResponse(Response):
    """An ``application/problem+json`` response rendered with orjson."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem_body(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str | None = None,
    errors: FieldErrors | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """The JSON body of a problem; ``errors`` only when there are some."""
    body: dict[str, Any] = {
        "type": type_ or problem_type(_slug(status)),
        "title": title or _title(status),
        "status": status,
        "detail": detail or title or _title(status),
    }
    if errors:
        body["errors"] = [{"field": str(e["field"]), "message": str(e["message"])} for e in errors]
    body["correlation_id"] = correlation_id
    return body


def problem(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str | None = None,
    errors: FieldErrors | None = None,
    correlation_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    """A problem+json response; the correlation id is also echoed as ``X-Correlation-ID``."""
    all_headers = dict(headers or {})
    if correlation_id:
        all_headers[CORRELATION_HEADER] = correlation_id
    body = problem_body(
        status, detail=detail, title=title, type_=type_, errors=errors, correlation_id=correlation_id
    )
    return ProblemResponse(body, status_code=status, headers=all_headers)


def field_errors(raw: Any) -> list[dict[str, str]]:
    """Normalise ``[(field, message)]`` / ``[{"field", "message"}]`` into problem ``errors``."""
    result: list[dict[str, str]] = []
    for item in raw or ():
        if isinstance(item, Mapping):
            result.append({"field": str(item.get("field", "")), "message": str(item.get("message", ""))})
        elif isinstance(item, tuple | list) and len(item) == 2:
            result.append({"field": str(item[0]), "message": str(item[1])})
    return result


@dataclass(frozen=True, slots=True)
class ProblemSpec:
    """How an exception type is answered: status, title and problem type URI."""

    status: int
    title: str
    type: str


class ProblemRegistry:
    """Exception type -> ``ProblemSpec``; lookups follow the class hierarchy (most specific first)."""

    def __init__(self, mapping: Mapping[type[Exception], int | ProblemSpec] | None = None) -> None:
        self._specs: dict[type[Exception], ProblemSpec] = {}
        for exc_type, spec in (mapping or {}).items():
            self.register(exc_type, spec)

    def register(
        self, exc_type: type[Exception], spec: int | ProblemSpec, *, title: str | None = None
    ) -> None:
        """Answer ``exc_type`` (and subclasses) with ``spec`` (a status code or a full spec)."""
        if isinstance(spec, int):
            name = title or _title_from_class(exc_type)
            spec = ProblemSpec(spec, name, problem_type(_slug_from_class(exc_type)))
        self._specs[exc_type] = spec

    def update(self, mapping: Mapping[type[Exception], int | ProblemSpec]) -> None:
        """Register every entry of ``mapping``."""
        for exc_type, spec in mapping.items():
            self.register(exc_type, spec)

    def lookup(self, exc: Exception) -> ProblemSpec | None:
        """The spec of the nearest registered class of ``exc``, or None."""
        for cls in type(exc).__mro__:
            spec = self._specs.get(cls)
            if spec is not None:
                return spec
        return None

    def types(self) -> Iterable[type[Exception]]:
        """Every registered exception type."""
        return tuple(self._specs)


def _title_from_class(exc_type: type[Exception]) -> str:
    # BookNotFound -> "Book not found"
    words: list[str] = []
    current = ""
    for char in exc_type.__name__:
        if char.isupper() and current:
            words.append(current)
            current = char
        else:
            current += char
    words.append(current)
    text = " ".join(w.lower() for w in words)
    return text[:1].upper() + text[1:]


def _slug_from_class(exc_type: type[Exception]) -> str:
    return _title_from_class(exc_type).lower().replace(" ", "-")
