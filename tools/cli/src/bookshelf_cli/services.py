"""The deployables `bookshelf run` knows about: default ports (docs/reference/http.md), databases."""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    """One deployable: its Python module, HTTP port, database and environment-variable prefix."""

    name: str
    module: str
    port: int
    database: str | None
    env_prefix: str
    page: str = "/docs"  # what the start table links to: the API's docs, or the service's own page

    @property
    def installed(self) -> bool:
        """Whether the service is installed and runnable here (it has a `__main__`)."""
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False

    @property
    def configured_port(self) -> int:
        return int(os.environ.get(f"{self.env_prefix}_PORT", self.port))

    def database_url_override(self) -> str | None:
        return os.environ.get(f"{self.env_prefix}_DATABASE_URL")

    def migrate(self, database_url: str) -> None:
        """Upgrade the service's database to the newest Alembic revision."""
        migrations = importlib.import_module(f"{self.module}.migrations")
        migrations.upgrade(database_url)


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("catalog", "bookshelf_catalog", 8001, "catalog", "CATALOG"),
    ServiceSpec("ordering", "bookshelf_ordering", 8002, "ordering", "ORDERING"),
    ServiceSpec("inventory", "bookshelf_inventory", 8003, "inventory", "INVENTORY"),
    ServiceSpec("shipping", "bookshelf_shipping", 8004, "shipping", "SHIPPING"),
    ServiceSpec("storefront-query", "bookshelf_storefront", 8005, "storefront", "STOREFRONT"),
    ServiceSpec(
        "fulfillment", "bookshelf_fulfillment", 8006, "fulfillment", "FULFILLMENT", page="/fulfillments"
    ),
    ServiceSpec("observatory", "bookshelf_observatory", 9000, "observatory", "OBSERVATORY", page="/"),
)


def installed_services(names: list[str] | None = None) -> list[ServiceSpec]:
    """The services present in this environment, optionally restricted to `names`."""
    chosen = [s for s in SERVICES if s.installed]
    if names:
        unknown = set(names) - {s.name for s in SERVICES}
        if unknown:
            raise ValueError(f"unknown service(s): {', '.join(sorted(unknown))}")
        chosen = [s for s in chosen if s.name in names]
    return chosen
