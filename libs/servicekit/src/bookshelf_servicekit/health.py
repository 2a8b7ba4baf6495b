"""Readiness checks behind ``/readyz``: database, Kafka, and the background runners of this role.

A check is an async callable returning ``None`` when healthy or a short reason when not (raising
counts as not ready too). ``Readiness`` runs them concurrently with a timeout each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

Check = Callable[[], Awaitable[str | None]]


@dataclass
class Readiness:
    """Named readiness checks; ``/readyz`` is 200 only when every check passes."""

    timeout: float = 2.0
    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        """Add (or replace) the check called ``name``."""
        self.checks[name] = check

    async def run(self) -> dict[str, str]:
        """``{name: "ok" | reason}`` for every check."""
        names = list(self.checks)
        results = await asyncio.gather(*(self._one(self.checks[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def _one(self, check: Check) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                reason = await check()
        except TimeoutError:
            return f"timed out after {self.timeout:g} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return reason or "ok"


def database_check(engine: AsyncEngine) -> Check:
    """Ready when the database answers ``SELECT 1``."""

    async def check() -> str | None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return None

    return check


def kafka_check(kafka: Any, *, cache_seconds: float = 5.0) -> Check:
    """Ready when the broker answers a metadata request; a success is remembered for a few seconds."""
    last_ok = 0.0

    async def check() -> str | None:
        nonlocal last_ok
        if time.monotonic() - last_ok < cache_seconds:
            return None
        from aiokafka.client import AIOKafkaClient

        client = AIOKafkaClient(**kafka.aiokafka_kwargs(), request_timeout_ms=2000)
        try:
            await client.bootstrap()
        finally:
            await client.close()
        last_ok = time.monotonic()
        return None

    return check


def running_check(name: str, is_running: Callable[[], bool]) -> Check:
    """Ready while ``is_running()`` is true (a consumer runner or the outbox relay of this role)."""

    async def check() -> str | None:
        return None if is_running() else f"{name} is not running"

    return check
