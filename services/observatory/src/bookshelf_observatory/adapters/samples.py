"""The charts' data in the index database: records per topic and slot (recomputed from ``messages``,
which is durable), and the lag samples (``lag_samples``, written by the sampler, kept ~15 minutes)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bookshelf_observatory.adapters.orm import lag_samples

RECORDS_PER_SLOT = sa.text(
    "SELECT topic, (floor(extract(epoch FROM record_ts) / :step) * :step)::bigint AS slot, count(*) "
    "FROM messages WHERE record_ts >= :since AND record_ts < :until AND topic NOT LIKE '%.dlq' "
    "GROUP BY topic, slot"
)


async def records_per_slot(
    conn: AsyncConnection, since: datetime, until: datetime, step_s: int
) -> dict[str, dict[int, float]]:
    """Records per topic and slot of ``step_s`` seconds (by record timestamp; dead-letter topics left
    out: the overview counts those separately)."""
    rows = await conn.execute(RECORDS_PER_SLOT, {"step": step_s, "since": since, "until": until})
    found: dict[str, dict[int, float]] = {}
    for topic, slot, count in rows:
        found.setdefault(topic, {})[int(slot)] = float(count)
    return found


async def lag_per_slot(conn: AsyncConnection, since: datetime) -> dict[str, dict[int, float]]:
    """The lag samples (records) per group and slot since ``since``."""
    rows = await conn.execute(
        sa.select(lag_samples.c.group_id, lag_samples.c.at, lag_samples.c.records).where(
            lag_samples.c.at >= since
        )
    )
    found: dict[str, dict[int, float]] = {}
    for group, at, records in rows:
        found.setdefault(group, {})[int(at.timestamp())] = float(records)
    return found


async def write_lag(
    conn: AsyncConnection, at: datetime, by_group: dict[str, tuple[int, float | None]]
) -> None:
    """One sample per group for slot ``at`` (a slot already sampled, by this or another observatory,
    keeps its first sample)."""
    if by_group:
        values = [
            {"at": at, "group_id": group, "records": records, "seconds": seconds}
            for group, (records, seconds) in sorted(by_group.items())
        ]
        await conn.execute(insert(lag_samples).values(values).on_conflict_do_nothing())


async def prune_lag(conn: AsyncConnection, before: datetime) -> int:
    """Delete the lag samples older than ``before``; returns how many."""
    result = await conn.execute(sa.delete(lag_samples).where(lag_samples.c.at < before))
    return int(result.rowcount or 0)
