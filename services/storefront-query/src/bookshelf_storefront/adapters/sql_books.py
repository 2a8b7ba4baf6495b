"""Per-book upserts (StorefrontView, BookCatalog, BookReport), combined into one statement per event.

Every upsert changes a column only for a higher version of its source (``details_version``,
``price_version``, ``stock_version``) and its WHERE clause skips the update entirely otherwise, so a
replayed event writes nothing. ``updated_at`` is the newest event time applied (never ``now()``),
so a rebuild from the topics reproduces it.

One catalog event changes three read models; their upserts go to the database as ONE statement
(the first ones as data-modifying CTEs), so an event costs one round trip instead of three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

PRICE = ("price_amount", "price_currency")
STOREFRONT_DETAILS = ("title", "author", "isbn", "genre")
CATALOG_DETAILS = ("title", "author", "isbn")
REPORT_DETAILS = (
    "title",
    "author",
    "isbn",
    "genre",
    "description",
    "tags",
    "page_count",
    "publication_date",
    "in_print",
)
Shape = tuple[str, str, tuple[str, ...]]  # (kind, table, detail columns)


@dataclass(frozen=True, slots=True)
class Upsert:
    """One book upsert waiting for the end of its event: its statement shape and its values."""

    kind: str  # details | storefront_details | price | report_price | stock
    table: str
    details: tuple[str, ...]
    params: dict[str, Any]

    @property
    def shape(self) -> Shape:
        """What identifies the SQL text (values aside)."""
        return (self.kind, self.table, self.details)


def _newer(columns: Sequence[str], version: str) -> str:
    return ",\n".join(
        f"{c} = CASE WHEN excluded.{version} > cur.{version} THEN excluded.{c} ELSE cur.{c} END"
        for c in columns
    )


def _details(table: str, details: tuple[str, ...], p: str, *, visible_xid: bool = False) -> str:
    columns = (*details, *PRICE)
    # StorefrontView records the transaction that made a row visible (see adapters/counting.py).
    xid_column = ", visible_xid" if visible_xid else ""
    xid_value = ", pg_current_xact_id()" if visible_xid else ""
    xid_set = (
        "visible_xid = CASE WHEN cur.details_version = 0 THEN excluded.visible_xid ELSE cur.visible_xid END,\n"
        if visible_xid
        else ""
    )
    return f"""INSERT INTO {table} AS cur
    (book_id, {", ".join(columns)}, updated_at, details_version, price_version{xid_column})
VALUES (:{p}book_id, {", ".join(f":{p}{c}" for c in columns)}, :{p}at, :{p}version, :{p}version{xid_value})
ON CONFLICT (book_id) DO UPDATE SET
{xid_set}{_newer(details, "details_version")},
details_version = GREATEST(cur.details_version, excluded.details_version),
{_newer(PRICE, "price_version")},
price_version = GREATEST(cur.price_version, excluded.price_version),
updated_at = GREATEST(cur.updated_at, excluded.updated_at)
WHERE excluded.details_version > cur.details_version OR excluded.price_version > cur.price_version"""


def _price(table: str, p: str) -> str:
    return f"""INSERT INTO {table} AS cur (book_id, price_amount, price_currency, price_version, updated_at)
VALUES (:{p}book_id, :{p}price_amount, :{p}price_currency, :{p}version, :{p}at)
ON CONFLICT (book_id) DO UPDATE SET
{_newer(PRICE, "price_version")},
price_version = excluded.price_version,
updated_at = GREATEST(cur.updated_at, excluded.updated_at)
WHERE excluded.price_version > cur.price_version"""


def _report_price(table: str, p: str) -> str:
    # Like _price, and records the change's version once in price_change_versions.
    return f"""INSERT INTO {table} AS cur
    (book_id, price_amount, price_currency, price_version, price_change_versions, updated_at)
VALUES (:{p}book_id, :{p}price_amount, :{p}price_currency, :{p}version,
        ARRAY[CAST(:{p}version AS integer)], :{p}at)
ON CONFLICT (book_id) DO UPDATE SET
{_newer(PRICE, "price_version")},
price_version = GREATEST(cur.price_version, excluded.price_version),
price_change_versions = ARRAY(
    SELECT DISTINCT v FROM unnest(cur.price_change_versions || excluded.price_version) AS v ORDER BY v),
updated_at = GREATEST(cur.updated_at, excluded.updated_at)
WHERE excluded.price_version > cur.price_version
   OR NOT (excluded.price_version = ANY (cur.price_change_versions))"""


def _stock(table: str, p: str) -> str:
    # Kept even when the book is not known yet (the row stays hidden until its details arrive).
    return f"""INSERT INTO {table} AS cur (book_id, available, stock_version, updated_at)
VALUES (:{p}book_id, :{p}available, :{p}version, :{p}at)
ON CONFLICT (book_id) DO UPDATE SET
available = excluded.available,
stock_version = excluded.stock_version,
updated_at = GREATEST(cur.updated_at, excluded.updated_at)
WHERE excluded.stock_version > cur.stock_version"""


def _text(shape: Shape, p: str) -> str:
    kind, table, details = shape
    if kind in ("details", "storefront_details"):
        return _details(table, details, p, visible_xid=kind == "storefront_details")
    if kind == "price":
        return _price(table, p)
    if kind == "report_price":
        return _report_price(table, p)
    if kind == "stock":
        return _stock(table, p)
    raise ValueError(f"unknown upsert kind {kind!r}")


@lru_cache(maxsize=256)
def statement(shapes: tuple[Shape, ...]) -> sa.TextClause:
    """One statement running every upsert: the last one plain, the ones before it as CTEs."""
    prefixes = [""] if len(shapes) == 1 else [f"s{i}_" for i in range(len(shapes))]
    texts = [_text(shape, p) for shape, p in zip(shapes, prefixes, strict=True)]
    sql = texts[-1]
    if len(texts) > 1:
        ctes = ",\n".join(f"s{i} AS (\n{text}\n)" for i, text in enumerate(texts[:-1]))
        sql = f"WITH {ctes}\n{sql}"
    json = [f"{p}tags" for shape, p in zip(shapes, prefixes, strict=True) if "tags" in shape[2]]
    return sa.text(sql).bindparams(*(sa.bindparam(name, type_=JSONB) for name in json))


def parameters(upserts: Sequence[Upsert]) -> dict[str, Any]:
    """The values of ``statement`` for these upserts (prefixed when there are several)."""
    if len(upserts) == 1:
        return upserts[0].params
    return {f"s{i}_{k}": v for i, u in enumerate(upserts) for k, v in u.params.items()}
