"""Reservations held in AWAITING_DISPATCH too long: shipments still CREATED after the limit, read from
shipping's database (docs/runbooks/BookshelfStockHeldAwaitingDispatch.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bookshelf_cli.backlog import CONNECT_TIMEOUT_S, asyncpg_dsn, describe_db_error
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.services import ServiceSpec

DEFAULT_LIMIT_S = 172_800.0  # shipping's SHIPPING_AWAITING_DISPATCH_MAX_S default (48 h)
SHOWN = 20

_OVERDUE = (
    "SELECT order_id, shipment_id, extract(epoch FROM now() - created_at) AS age"
    " FROM shipments WHERE status = 'CREATED' AND created_at < now() - make_interval(secs => $1)"
    " ORDER BY created_at LIMIT $2"
)
_COUNT = (
    "SELECT count(*) FROM shipments"
    " WHERE status = 'CREATED' AND created_at < now() - make_interval(secs => $1)"
)


def default_limit() -> float:
    """``SHIPPING_AWAITING_DISPATCH_MAX_S`` when set (as shipping reads it), else 48 h."""
    raw = os.environ.get("SHIPPING_AWAITING_DISPATCH_MAX_S")
    try:
        return float(raw) if raw else DEFAULT_LIMIT_S
    except ValueError:
        return DEFAULT_LIMIT_S


@dataclass
class HeldReservations:
    """Orders whose shipment has waited for dispatch longer than ``limit_s`` (their stock is held)."""

    limit_s: float
    count: int = 0
    oldest: list[dict[str, Any]] = field(default_factory=list)  # up to SHOWN, oldest first
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``held_awaiting_dispatch`` part of ``status --json``."""
        return {
            "limit_seconds": self.limit_s,
            "count": self.count,
            "oldest": self.oldest,
            "error": self.error,
        }


async def held_reservations(
    config: LocalConfig, specs: list[ServiceSpec], limit_s: float
) -> HeldReservations:
    """Read shipping's overdue shipments; an unreadable database is reported, not raised."""
    report = HeldReservations(limit_s)
    spec = next((s for s in specs if s.name == "shipping"), None)
    url = config.database_url(spec) if spec is not None else None
    if not url:
        report.error = "shipping is not installed or has no database"
        return report
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
        try:
            report.count = int(await conn.fetchval(_COUNT, limit_s) or 0)
            rows = await conn.fetch(_OVERDUE, limit_s, SHOWN)
        finally:
            await conn.close()
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        report.error = describe_db_error(exc, url)
        return report
    report.oldest = [
        {
            "order_id": str(r["order_id"]),
            "shipment_id": str(r["shipment_id"]),
            "age_seconds": round(float(r["age"]), 1),
        }
        for r in rows
    ]
    return report
