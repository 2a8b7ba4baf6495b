"""Table names: the views the API and live consumers use, and the generations behind them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bookshelf_storefront.domain.read_models import ReadModel

_GENERATION = re.compile(r"^(?P<base>[a-z_]+)_g(?P<generation>[0-9]+)$")
GENERATIONS_TABLE = "read_model_generations"


def physical(base: str, generation: int) -> str:
    """The table of one generation: ``storefront_view`` + 3 -> ``storefront_view_g3``."""
    return f"{base}_g{generation}"


def parse_physical(name: str) -> tuple[str, int] | None:
    """``storefront_view_g3`` -> ``("storefront_view", 3)``; None for other names."""
    match = _GENERATION.match(name)
    return (match["base"], int(match["generation"])) if match else None


@dataclass(frozen=True, slots=True)
class Tables:
    """Where each read model's rows go: view names (live) or one generation's tables (rebuild)."""

    storefront_view: str = "storefront_view"
    book_catalog: str = "book_catalog"
    book_report: str = "book_report"
    report_orders: str = "report_orders"
    order_tracking: str = "order_tracking"

    def with_generation(self, model: ReadModel, generation: int) -> Tables:
        """These tables, with the given read model's ones replaced by its generation ``generation``."""
        return replace(self, **{base: physical(base, generation) for base in model.tables})


LIVE = Tables()
