"""Local infrastructure for `bookshelf run` and `bookshelf db`: where it lives and its addresses.

Every address can be overridden from the environment; when `KAFKA_BOOTSTRAP_SERVERS` or a service's
`<SERVICE>_DATABASE_URL` is set, that part is external and nothing is started for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bookshelf_cli.services import ServiceSpec


@dataclass(frozen=True)
class LocalConfig:
    """Addresses and folders of the embedded infrastructure."""

    home: Path = field(default_factory=lambda: Path(os.environ.get("BOOKSHELF_HOME", ".bookshelf")).resolve())
    kafka_port: int = field(default_factory=lambda: int(os.environ.get("BOOKSHELF_KAFKA_PORT", "9092")))
    kafka_controller_port: int = field(
        default_factory=lambda: int(os.environ.get("BOOKSHELF_KAFKA_CONTROLLER_PORT", "9093"))
    )
    pg_port: int = field(default_factory=lambda: int(os.environ.get("BOOKSHELF_PG_PORT", "5433")))
    host: str = "127.0.0.1"

    @property
    def external_kafka(self) -> str | None:
        return os.environ.get("KAFKA_BOOTSTRAP_SERVERS")

    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka or f"{self.host}:{self.kafka_port}"

    def database_url(self, spec: ServiceSpec) -> str | None:
        """The SQLAlchemy (asyncpg) URL of a service's database; None for services without one."""
        if spec.database is None:
            return None
        return spec.database_url_override() or (
            f"postgresql+asyncpg://postgres@{self.host}:{self.pg_port}/{spec.database}"
        )

    def needs_embedded_postgres(self, specs: list[ServiceSpec]) -> bool:
        return any(s.database and not s.database_url_override() for s in specs)

    @property
    def logs(self) -> Path:
        return self.home / "logs"
