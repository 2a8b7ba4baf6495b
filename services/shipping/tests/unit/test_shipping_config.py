"""Shipping settings: port, SHIPPING_COUNTRIES, consumer group."""

from __future__ import annotations

import pytest
from bookshelf_shipping.config import ShippingSettings
from pydantic import ValidationError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHIPPING_COUNTRIES", "SHIPPING_PORT", "SHIPPING_COMMANDS_GROUP", "SHIPPING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = ShippingSettings()
    assert settings.port == 8004
    assert settings.commands_group == "shipping.commands"
    assert settings.served_countries.codes == ("US", "CA", "GB", "DE", "FR", "NL", "IE", "AU")
    assert settings.database_url.endswith("/shipping")


def test_countries_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPPING_COUNTRIES", "ie, nz")
    assert ShippingSettings().served_countries.codes == ("IE", "NZ")


def test_a_bad_country_refuses_to_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPPING_COUNTRIES", "US,Canada")
    with pytest.raises(ValidationError, match="'Canada' is not an ISO 3166-1 alpha-2 code"):
        ShippingSettings()
