"""Reading a server-sent event stream of the app as it arrives (httpx's ASGI transport would wait for
the whole body): the ASGI app is called directly and each body chunk is parsed into events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from bookshelf_infra.testing import eventually


@dataclass
class Event:
    """One server-sent event."""

    name: str
    data: str
    id: str


@dataclass
class LiveStream:
    """The events received so far and the response's status and headers."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    _buffer: str = ""

    def feed(self, chunk: str) -> None:
        self._buffer += chunk
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            fields: dict[str, list[str]] = {}
            for line in block.split("\n"):
                name, _, value = line.partition(": ")
                fields.setdefault(name, []).append(value)
            if "event" in fields:
                self.events.append(
                    Event(fields["event"][0], "\n".join(fields.get("data", [])), fields.get("id", [""])[0])
                )

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    async def until(
        self,
        check: Callable[[LiveStream], Any],
        message: str,
        timeout: float = 30,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    ) -> Any:
        """Poll the received events until ``check`` returns something truthy."""
        return await eventually(lambda: check(self), timeout=timeout, message=message)


@contextlib.asynccontextmanager
async def open_stream(app: Any, path: str, headers: dict[str, str]) -> AsyncIterator[LiveStream]:
    """GET ``path`` on ``app`` and parse its events while they come; disconnects on exit."""
    live = LiveStream()
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"observatory")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40001),
        "server": ("observatory", 80),
    }
    requested, gone = False, asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            live.status = message["status"]
            live.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            live.feed(message.get("body", b"").decode())

    task = asyncio.create_task(app(scope, receive, send))
    try:
        yield live
    finally:
        gone.set()
        done, _ = await asyncio.wait({task}, timeout=10)
        if not done:
            task.cancel()
        with contextlib.suppress(BaseException):
            await task
