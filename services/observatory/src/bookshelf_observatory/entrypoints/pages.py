"""The dashboard's HTML pages (server-rendered jinja2) and their partials.

Each page renders its data once; ``static/app.js`` then listens to the page's event stream
(``data-live``, ``entrypoints.live``) and swaps in each partial the server pushes, so the pages stay live
without polling and without any external asset. ``/partials/...`` serve the same fragments on request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from bookshelf_servicekit import NotFound
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from bookshelf_observatory.entrypoints.auth import require_page_staff
from bookshelf_observatory.entrypoints.deps import Runtime
from bookshelf_observatory.service_layer.observatory import Observatory

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
templates = Jinja2Templates(directory=str(TEMPLATE_DIR))


def _ms(value: float | None) -> str:
    """A duration in ms for humans: ``12.5 ms``, ``1.24 s``; ``?`` when unknown."""
    if value is None:
        return "?"
    return f"{value / 1000:.2f} s" if abs(value) >= 1000 else f"{value:g} ms"


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _ago(moment: datetime | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    seconds = max(0.0, (datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


templates.env.filters["when"] = _when
templates.env.filters["ago"] = _ago
templates.env.filters["ms"] = _ms

# Staff only: the pages show payloads and stack traces (entrypoints.auth).
router = APIRouter(include_in_schema=False, dependencies=[Depends(require_page_staff)])
Html = HTMLResponse


def render(request: Request, name: str, **context: Any) -> Response:
    """A template rendered with the request and ``context``."""
    return templates.TemplateResponse(request, name, context)


@router.get("/", response_class=Html)
async def overview_page(request: Request, runtime: Runtime) -> Response:
    """Overview: health, throughput, lag, outbox backlog, DLQ depth, recent failures."""
    return render(request, "overview.html", page="overview", data=await runtime.overview())


@router.get("/partials/overview", response_class=Html)
async def overview_partial(request: Request, runtime: Runtime) -> Response:
    """The live part of the overview."""
    return render(request, "partials/overview.html", data=await runtime.overview())


@router.get("/dead-letters", response_class=Html)
async def dead_letters_page(
    request: Request, runtime: Runtime, topic: Annotated[str | None, Query()] = None
) -> Response:
    """Open dead letters with Replay and Purge buttons."""
    entries = await runtime.dead_letters(topic)
    return render(request, "dead_letters.html", page="dead-letters", entries=entries, topic=topic or "")


@router.get("/partials/dead-letters", response_class=Html)
async def dead_letters_partial(
    request: Request, runtime: Runtime, topic: Annotated[str | None, Query()] = None
) -> Response:
    """The live dead-letter table."""
    entries = await runtime.dead_letters(topic)
    return render(request, "partials/dead_letters.html", entries=entries, topic=topic or "")


@router.get("/dead-letters/{entry_id}", response_class=Html)
async def dead_letter_page(request: Request, runtime: Runtime, entry_id: str) -> Response:
    """One dead letter: error, stack trace, headers and payload."""
    entry = await runtime.dead_letter(entry_id)
    return render(request, "dead_letter.html", page="dead-letters", entry=entry)


def trace_links(runtime: Observatory, trace_ids: list[str]) -> list[dict[str, str]]:
    """``[{trace_id, url}]`` into the tracing UI (``OBSERVATORY_TRACE_UI_URL``), empty when unset."""
    urls = ((t, runtime.settings.trace_url(t)) for t in trace_ids)
    return [{"trace_id": t, "url": url} for t, url in urls if url]


async def trace_context(runtime: Observatory, query: str) -> dict[str, Any]:
    """What the trace page and its partial show for ``query``."""
    if not query:
        return {"query": "", "trace": None, "error": "", "trace_links": []}
    try:
        trace = (await runtime.trace(query)).to_dict()
    except NotFound as exc:
        return {"query": query, "trace": None, "error": str(exc), "trace_links": []}
    return {
        "query": query,
        "trace": trace,
        "error": "",
        "trace_links": trace_links(runtime, trace["trace_ids"]),
    }


@router.get("/trace", response_class=Html)
async def trace_page(
    request: Request, runtime: Runtime, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Trace search by correlation id or order id: the causation tree."""
    return render(request, "trace.html", page="trace", **await trace_context(runtime, q.strip()))


@router.get("/partials/trace", response_class=Html)
async def trace_partial(
    request: Request, runtime: Runtime, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The live causation tree (a saga in progress grows while you watch)."""
    return render(request, "partials/trace.html", **await trace_context(runtime, q.strip()))


@router.get("/sagas", response_class=Html)
async def sagas_page(request: Request, runtime: Runtime) -> Response:
    """Saga instances by state and the stuck ones."""
    return render(request, "sagas.html", page="sagas", data=await runtime.sagas())


@router.get("/partials/sagas", response_class=Html)
async def sagas_partial(request: Request, runtime: Runtime) -> Response:
    """The live saga tables."""
    return render(request, "partials/sagas.html", data=await runtime.sagas())
