"""Live pages by server-sent events: ``GET /events/{view}`` pushes the page's partial (and, on the
overview, the charts' data) whenever it changed; nothing polls from the browser.

Every ``OBSERVATORY_LIVE_INTERVAL_S`` the stream re-reads the view's data and sends each part whose
content changed (an ``event: partial`` with the HTML, an ``event: charts`` with JSON). A stream ends after
``OBSERVATORY_LIVE_STREAM_S`` and the browser's EventSource reconnects by itself: the ``id`` of the last
event names the digests already shown, so a reconnect sends only what changed, and an open dashboard
never holds a shutdown for longer than one stream. Staff only, like the pages: the sign-in cookie (or
the bearer token); without it, 401 (the page script then goes to the sign-in).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from bookshelf_observatory.entrypoints.auth import require_api_staff
from bookshelf_observatory.entrypoints.deps import ChartsDep, Runtime
from bookshelf_observatory.entrypoints.pages import templates, trace_context
from bookshelf_observatory.service_layer.charts import Charts
from bookshelf_observatory.service_layer.observatory import Observatory

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_api_staff)])
RETRY_MS = 500  # how soon the browser reconnects when a stream ends
View = Literal["overview", "dead-letters", "trace", "sagas"]
Parts = list[tuple[str, str]]  # (event name, data)


def _html(name: str, **context: object) -> str:
    return templates.get_template(name).render(**context)


def producer(
    view: View, runtime: Observatory, charts: Charts, q: str, topic: str | None
) -> Callable[[], Awaitable[Parts]]:
    """What the stream of ``view`` sends each tick."""

    async def overview() -> Parts:
        data, series = await asyncio.gather(runtime.overview(), charts.series())
        return [
            ("partial", _html("partials/overview.html", data=data)),
            ("charts", orjson.dumps(series).decode()),
        ]

    async def dead_letters() -> Parts:
        entries = await runtime.dead_letters(topic)
        return [("partial", _html("partials/dead_letters.html", entries=entries, topic=topic or ""))]

    async def trace() -> Parts:
        return [("partial", _html("partials/trace.html", **await trace_context(runtime, q.strip())))]

    async def sagas() -> Parts:
        return [("partial", _html("partials/sagas.html", data=await runtime.sagas()))]

    return {"overview": overview, "dead-letters": dead_letters, "trace": trace, "sagas": sagas}[view]


def digest(text: str) -> str:
    """A short digest of a part (what the event id remembers)."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def parse_event_id(raw: str) -> dict[str, str]:
    """``partial:abc.charts:def`` -> ``{"partial": "abc", "charts": "def"}`` (junk is ignored)."""
    pairs = (item.partition(":") for item in raw.split(".") if ":" in item)
    return {name: value for name, _, value in pairs if name and value}


def format_event(name: str, data: str, event_id: str) -> str:
    """One server-sent event (each line of ``data`` as a ``data:`` line)."""
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"id: {event_id}\nevent: {name}\n{lines}\n"


async def stream(
    produce: Callable[[], Awaitable[Parts]], *, interval_s: float, lifetime_s: float, last_event_id: str
) -> AsyncIterator[str]:
    """The events of one stream: changed parts each tick, until ``lifetime_s`` has passed."""
    shown = parse_event_id(last_event_id)
    yield f"retry: {RETRY_MS}\n\n"
    ends = time.monotonic() + lifetime_s
    while True:
        try:
            parts = await produce()
        except Exception as exc:  # the database is away: say so, keep the stream
            yield format_event("failure", f"{type(exc).__name__}: {exc}", _event_id(shown))
        else:
            changed = [(name, data) for name, data in parts if shown.get(name) != digest(data)]
            shown |= {name: digest(data) for name, data in changed}
            for name, data in changed:
                yield format_event(name, data, _event_id(shown))
            if not changed:
                yield ": unchanged\n\n"
        if time.monotonic() + interval_s > ends:
            return
        await asyncio.sleep(interval_s)  # the tick of the stream: the data is re-read this often


def _event_id(shown: dict[str, str]) -> str:
    return ".".join(f"{name}:{value}" for name, value in sorted(shown.items()))


@router.get("/events/{view}")
async def events(
    request: Request,
    runtime: Runtime,
    charts: ChartsDep,
    view: View,
    q: Annotated[str, Query(max_length=200)] = "",
    topic: Annotated[str | None, Query(max_length=249)] = None,
) -> StreamingResponse:
    """The live stream of one page (``text/event-stream``)."""
    settings = runtime.settings
    body = stream(
        producer(view, runtime, charts, q, topic),
        interval_s=settings.live_interval_s,
        lifetime_s=settings.live_stream_s,
        last_event_id=request.headers.get("last-event-id", ""),
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
