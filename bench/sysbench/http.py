"""The load generator's HTTP client: aiohttp behind the small part of httpx's API the bench uses.

The generator shares the 2 cores with the system it measures, so its CPU per request is taken from
the system's budget: httpx cost ~6.5 ms of CPU per POST on the reference machine, aiohttp a fraction
of that (``calibrate`` in loadgen.py prints the figure with every run).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import aiohttp
import orjson

TransportErrors = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class Answer:
    """Status and body of one response (``status_code``, ``content``, ``json()`` as in httpx)."""

    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    def json(self) -> Any:
        return orjson.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HTTPStatusError(f"HTTP {self.status_code}: {self.content[:300]!r}")


class HTTPStatusError(Exception):
    """A 4xx/5xx answer where the bench needed success (setup steps)."""


class Client:
    """One pooled aiohttp session; ``async with Client() as http`` like ``httpx.AsyncClient``."""

    def __init__(self, connections: int = 256, timeout_s: float = 30.0) -> None:
        self._connections = connections
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=None)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, json_serialize=lambda v: orjson.dumps(v).decode()
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        if self._session is None:
            raise RuntimeError("use `async with Client() as http`")
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        if isinstance(kwargs.get("timeout"), int | float):
            kwargs["timeout"] = aiohttp.ClientTimeout(total=kwargs["timeout"])
        async with self._session.request(method, url, **kwargs) as response:
            return Answer(response.status, await response.read())

    async def get(self, url: str, **kwargs: Any) -> Answer:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Answer:
        return await self.request("POST", url, **kwargs)
