"""Settings of the shipping service (environment prefix ``SHIPPING_``)."""

from __future__ import annotations

from typing import ClassVar

from bookshelf_servicekit import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from bookshelf_shipping.domain.rules import DEFAULT_COUNTRIES, ServedCountries

COMMANDS_GROUP = "shipping.commands"


class ShippingSettings(ServiceSettings):
    """``SHIPPING_DATABASE_URL``, ``SHIPPING_PORT`` (8004), ``SHIPPING_COUNTRIES`` and friends."""

    model_config = SettingsConfigDict(env_prefix="SHIPPING_")
    service_name: ClassVar[str] = "shipping"

    port: int = Field(default=8004, ge=0, le=65535)
    countries: str = Field(
        default=DEFAULT_COUNTRIES,
        description="Comma-separated ISO 3166-1 alpha-2 codes shipping delivers to (SHIPPING_COUNTRIES)",
    )
    commands_group: str = Field(
        default=COMMANDS_GROUP, description="Consumer group reading shipping.commands"
    )
    awaiting_dispatch_max_s: float = Field(
        default=172_800.0,
        gt=0,
        description="A shipment waiting for dispatch longer than this (seconds; 48 h) holds its order's "
        "stock too long: bookshelf status and the BookshelfStockHeldAwaitingDispatch alert report it",
    )

    @field_validator("countries")
    @classmethod
    def _valid_countries(cls, value: str) -> str:
        ServedCountries.parse(value)  # raises ValueError naming the bad code
        return value

    @property
    def served_countries(self) -> ServedCountries:
        """The parsed ``SHIPPING_COUNTRIES``."""
        return ServedCountries.parse(self.countries)
