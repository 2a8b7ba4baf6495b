"""Outside dev mode every service refuses to start without its secrets or with their dev values.

``run_service`` builds the settings before it touches anything, so a refusal here starts nothing: the
process would exit with status 2 and say which variable to set.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from bookshelf_catalog.bootstrap import from_options as catalog_components
from bookshelf_catalog.config import DEV_SUPPLIER_SECRET
from bookshelf_fulfillment.config import FulfillmentSettings
from bookshelf_fulfillment.entrypoints.web import ROUTES
from bookshelf_inventory.bootstrap import build_components as inventory_components
from bookshelf_observatory.bootstrap import build_components as observatory_components
from bookshelf_ordering.bootstrap import build_components as ordering_components
from bookshelf_servicekit.runtime import run_service
from bookshelf_servicekit.settings import DEV_ADMIN_TOKEN
from bookshelf_shipping.bootstrap import build_components as shipping_components
from bookshelf_storefront.bootstrap import build_components as storefront_components
from pydantic import SecretStr

pytestmark = pytest.mark.unit

BUILDERS: dict[str, Callable[..., Any]] = {
    "catalog": catalog_components,
    "ordering": ordering_components,
    "inventory": inventory_components,
    "shipping": shipping_components,
    "storefront": storefront_components,
    "observatory": observatory_components,
}
SECRETS = ("BOOKSHELF_ADMIN_TOKEN", "SUPPLIER_WEBHOOK_SECRET")


@pytest.fixture
def prod(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """``BOOKSHELF_ENV=prod`` with no secret set."""
    monkeypatch.setenv("BOOKSHELF_ENV", "prod")
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def refusal(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run the service's entrypoint, expect exit status 2, and return what it printed."""
    with pytest.raises(SystemExit) as exited:
        run_service(name, BUILDERS[name], [])
    assert exited.value.code == 2
    err: str = capsys.readouterr().err
    assert err.startswith(f"{name}: refusing to start: ")
    return err


@pytest.mark.parametrize("name", BUILDERS)
def test_refuses_to_start_without_an_admin_token(
    name: str, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("SUPPLIER_WEBHOOK_SECRET", "a-real-supplier-secret")
    assert "BOOKSHELF_ADMIN_TOKEN is not set" in refusal(name, capsys)


@pytest.mark.parametrize("name", BUILDERS)
def test_refuses_to_start_with_the_dev_admin_token(
    name: str, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("BOOKSHELF_ADMIN_TOKEN", DEV_ADMIN_TOKEN)
    prod.setenv("SUPPLIER_WEBHOOK_SECRET", "a-real-supplier-secret")
    assert "BOOKSHELF_ADMIN_TOKEN still has its dev value" in refusal(name, capsys)


@pytest.mark.parametrize("supplier_secret", [None, DEV_SUPPLIER_SECRET])
def test_catalog_refuses_a_missing_or_dev_webhook_secret(
    supplier_secret: str | None, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("BOOKSHELF_ADMIN_TOKEN", "a-real-admin-token")
    if supplier_secret is not None:
        prod.setenv("SUPPLIER_WEBHOOK_SECRET", supplier_secret)
    assert "SUPPLIER_WEBHOOK_SECRET" in refusal("catalog", capsys)


def test_fulfillment_has_no_secret_and_no_write_endpoint() -> None:
    """The saga worker needs no staff token: its web view only reads. Adding a secret or a write
    route means adding it to DEV_SECRETS-style refusal and staff authentication first."""
    secrets = [n for n, f in FulfillmentSettings.model_fields.items() if f.annotation is SecretStr]
    assert secrets == []
    for path, view in ROUTES:
        handlers = {m for m in ("post", "put", "patch", "delete") if m in vars(view)}
        assert not handlers, f"{path} has write handlers {handlers}"
        assert inspect.iscoroutinefunction(view.get)
