"""Exact StorefrontView totals without counting 100,000 rows per request.

A row becomes visible once (its first BookAdded sets ``details_version > 0`` and ``visible_xid``, the
writing transaction) and never disappears. So for any snapshot with oldest running transaction
``xmin``, the visible rows with ``visible_xid < xmin`` are a fixed set: every transaction that could
add to it has finished. The total is that base (counted once, then remembered with its xmin and
table generation) plus the rows made visible since (an index range on ``visible_xid``), read in ONE
statement so both parts and the generation come from one snapshot. A rebuild switch (or a TRUNCATE)
changes the generation (file) and starts a new base; a long tail triggers a new base.

``in_stock=true`` alone is the total minus the out-of-stock rows (usually the smaller side).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

REBASE_AFTER = 5000  # rows in the tail before the next request counts a new base

# Which table the view shows: its generation and file node (TRUNCATE gives the table a new one).
_GENERATION = """(SELECT g || ':' || pg_relation_filenode(CAST('storefront_view_g' || g AS regclass))
    FROM (SELECT sf_view_generation(CAST('storefront_view' AS regclass)) AS g) AS v)"""
_TAIL = sa.text(f"""SELECT {_GENERATION} AS generation,
    (SELECT count(*) FROM storefront_view
     WHERE details_version > 0 AND visible_xid >= CAST(CAST(:xmin AS text) AS xid8)) AS tail""")
_BASE = sa.text(f"""SELECT {_GENERATION} AS generation, CAST(s.xmin AS text) AS xmin,
    (SELECT count(*) FROM storefront_view
     WHERE details_version > 0 AND (visible_xid < s.xmin OR visible_xid IS NULL)) AS old,
    (SELECT count(*) FROM storefront_view WHERE details_version > 0 AND visible_xid >= s.xmin) AS tail
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) AS s""")


@dataclass(frozen=True, slots=True)
class _Base:
    generation: str
    xmin: str
    count: int


class VisibleTotals:
    """The number of visible StorefrontView rows, exact, per app (see module doc)."""

    def __init__(self) -> None:
        self._base: _Base | None = None

    async def total(self, session: AsyncSession) -> int:
        """Visible rows in the current snapshot."""
        base = self._base
        if base is not None:
            row = (await session.execute(_TAIL, {"xmin": base.xmin})).one()
            if row.generation == base.generation:
                if row.tail > REBASE_AFTER:
                    self._base = None
                return base.count + int(row.tail)
        row = (await session.execute(_BASE)).one()
        self._base = _Base(str(row.generation), str(row.xmin), int(row.old))
        return int(row.old) + int(row.tail)
