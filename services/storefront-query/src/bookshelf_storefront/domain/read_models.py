"""The read models of docs/domain.md "Read models": their names, tables and the topics that feed them."""

from __future__ import annotations

from dataclasses import dataclass

from bookshelf_contracts import CATALOG_BOOKS, INVENTORY_STOCK, ORDERING_ORDERS, SHIPPING_SHIPMENTS


@dataclass(frozen=True, slots=True)
class ReadModel:
    """One read model: ``name`` (as the CLI spells it), its tables (view names) and its source topics."""

    name: str
    tables: tuple[str, ...]
    topics: tuple[str, ...]
    description: str


STOREFRONT = ReadModel(
    "storefront",
    ("storefront_view",),
    (CATALOG_BOOKS, INVENTORY_STOCK),
    "StorefrontView: books with price and availability",
)
CATALOG = ReadModel(
    "catalog", ("book_catalog",), (CATALOG_BOOKS,), "BookCatalog: id, title, author, isbn, price"
)
REPORTS = ReadModel(
    "reports",
    ("book_report", "report_orders"),
    (CATALOG_BOOKS, ORDERING_ORDERS),
    "BookReport: full book state, price changes, units sold, revenue",
)
TRACKING = ReadModel(
    "tracking",
    ("order_tracking",),
    (ORDERING_ORDERS, SHIPPING_SHIPMENTS),
    "OrderTracking: status, customer email, total, tracking number, history",
)

READ_MODELS: dict[str, ReadModel] = {m.name: m for m in (STOREFRONT, CATALOG, REPORTS, TRACKING)}
ALL = "all"


def fed_by(topic: str) -> tuple[str, ...]:
    """The names of the read models ``topic`` feeds, in ``READ_MODELS`` order."""
    return tuple(model.name for model in READ_MODELS.values() if topic in model.topics)


class UnknownReadModel(ValueError):
    """A read-model name that is neither one of ``READ_MODELS`` nor ``all``."""


def resolve(name: str) -> list[ReadModel]:
    """The read models a name stands for: one, or every one for ``all``; raises ``UnknownReadModel``."""
    key = name.strip().lower()
    if key == ALL:
        return list(READ_MODELS.values())
    if key not in READ_MODELS:
        known = ", ".join([*READ_MODELS, ALL])
        raise UnknownReadModel(f"unknown read model {name!r}; choose one of: {known}")
    return [READ_MODELS[key]]
