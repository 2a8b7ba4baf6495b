"""Base settings of every service: dev/prod mode, staff token, database, HTTP address, role.

A service subclasses ``ServiceSettings`` with its own env prefix::

    class CatalogSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="CATALOG_")
        service_name: ClassVar[str] = "catalog"
        port: int = 8001

Prefixed variables (``CATALOG_DATABASE_URL``, ``CATALOG_PORT``, ``CATALOG_HOST``, ``CATALOG_ROLE``)
come from plain field names; shared variables (``BOOKSHELF_ENV``, ``BOOKSHELF_ADMIN_TOKEN``) keep their
unprefixed names through ``validation_alias``. Outside dev mode every secret listed in ``DEV_SECRETS``
must be set, must differ from its dev default and must be at least ``MIN_SECRET_LENGTH`` (32)
characters long, or the settings refuse to load. ``BOOKSHELF_ENV`` defaults to ``prod``: dev mode is
opt-in (``bookshelf run``, the tests and compose's dev profile set it).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["all", "api", "relay", "consumers"]
ROLES: tuple[Role, ...] = ("all", "api", "relay", "consumers")
DEV_ADMIN_TOKEN = "dev-admin-token"
# Outside dev mode every secret must be at least this long (a guessable token is no token).
MIN_SECRET_LENGTH = 32


class InsecureSettingsError(RuntimeError):
    """Outside dev mode a secret is missing or still has its well-known dev value."""


class ServiceSettings(BaseSettings):
    """Settings shared by every service; subclasses set ``env_prefix``, ``service_name`` and ``port``."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    # Service name: default database name and log/metric label.
    service_name: ClassVar[str] = "service"
    # field name -> (environment variable, dev default). Filled in dev, refused outside dev.
    DEV_SECRETS: ClassVar[dict[str, tuple[str, str]]] = {
        "admin_token": ("BOOKSHELF_ADMIN_TOKEN", DEV_ADMIN_TOKEN),
    }

    env: Literal["dev", "prod"] = Field(default="prod", validation_alias="BOOKSHELF_ENV")
    admin_token: SecretStr | None = Field(default=None, validation_alias="BOOKSHELF_ADMIN_TOKEN")
    database_url: str = ""
    port: int = Field(default=8000, ge=0, le=65535)
    host: str = "127.0.0.1"
    role: Role = "all"

    @property
    def is_dev(self) -> bool:
        """True in dev mode (``BOOKSHELF_ENV=dev``): dev secrets allowed, migrations run on start."""
        return self.env == "dev"

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if not data.get("database_url"):
            data = {**data, "database_url": cls.default_database_url()}
        return data

    @classmethod
    def default_database_url(cls) -> str:
        """The embedded PostgreSQL address of this service's database (bookshelf run, tests)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:5433/{cls.service_name}"

    @model_validator(mode="after")
    def _check_secrets(self) -> ServiceSettings:
        for field, (variable, dev_value) in self.DEV_SECRETS.items():
            current = getattr(self, field)
            value = current.get_secret_value() if isinstance(current, SecretStr) else current
            if self.is_dev:
                if not value:
                    # Frozen model: set through __dict__ during validation.
                    self.__dict__[field] = SecretStr(dev_value) if _is_secret(self, field) else dev_value
                continue
            if not value:
                raise InsecureSettingsError(
                    f"{variable} is not set; BOOKSHELF_ENV={self.env} needs a real secret "
                    f"(the dev default is only allowed with BOOKSHELF_ENV=dev)"
                )
            if value == dev_value:
                raise InsecureSettingsError(
                    f"{variable} still has its dev value {dev_value!r}; set a real secret "
                    f"when BOOKSHELF_ENV={self.env}"
                )
            if len(value) < MIN_SECRET_LENGTH:
                raise InsecureSettingsError(
                    f"{variable} is {len(value)} characters long; BOOKSHELF_ENV={self.env} needs at least "
                    f"{MIN_SECRET_LENGTH} (e.g. `openssl rand -hex 32`)"
                )
        return self

    def secret(self, field: str) -> str:
        """The plain value of a secret field (after dev defaults were applied)."""
        value = getattr(self, field)
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(plain, str) or not plain:
            raise InsecureSettingsError(f"secret {field!r} is not set")
        return plain


def _is_secret(settings: ServiceSettings, field: str) -> bool:
    annotation = type(settings).model_fields[field].annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)
