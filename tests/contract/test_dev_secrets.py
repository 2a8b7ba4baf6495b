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
from bookshelf_ordering.config import DEV_ACCESS_TOKEN_SECRET
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
SECRETS = ("BOOKSHELF_ADMIN_TOKEN", "SUPPLIER_WEBHOOK_SECRET", "ORDERING_ACCESS_TOKEN_SECRET")
REAL_TOKEN = "a-real-admin-token-at-least-32-chars"
REAL_SUPPLIER_SECRET = "a-real-supplier-secret-of-32-chars!"
REAL_ACCESS_SECRET = "a-real-order-access-secret-32-chars"


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
    prod.setenv("SUPPLIER_WEBHOOK_SECRET", REAL_SUPPLIER_SECRET)
    prod.setenv("ORDERING_ACCESS_TOKEN_SECRET", REAL_ACCESS_SECRET)
    assert "BOOKSHELF_ADMIN_TOKEN is not set" in refusal(name, capsys)


@pytest.mark.parametrize("name", BUILDERS)
def test_refuses_to_start_with_the_dev_admin_token(
    name: str, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("BOOKSHELF_ADMIN_TOKEN", DEV_ADMIN_TOKEN)
    prod.setenv("SUPPLIER_WEBHOOK_SECRET", REAL_SUPPLIER_SECRET)
    prod.setenv("ORDERING_ACCESS_TOKEN_SECRET", REAL_ACCESS_SECRET)
    assert "BOOKSHELF_ADMIN_TOKEN still has its dev value" in refusal(name, capsys)


@pytest.mark.parametrize("name", BUILDERS)
def test_refuses_to_start_with_a_short_admin_token(
    name: str, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("BOOKSHELF_ADMIN_TOKEN", "x" * 31)
    prod.setenv("SUPPLIER_WEBHOOK_SECRET", REAL_SUPPLIER_SECRET)
    prod.setenv("ORDERING_ACCESS_TOKEN_SECRET", REAL_ACCESS_SECRET)
    assert "BOOKSHELF_ADMIN_TOKEN is 31 characters long" in refusal(name, capsys)


@pytest.mark.parametrize("secret", [None, DEV_ACCESS_TOKEN_SECRET, "short-secret"])
def test_ordering_refuses_a_missing_dev_or_short_access_token_secret(
    secret: str | None, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("BOOKSHELF_ADMIN_TOKEN", REAL_TOKEN)
    if secret is not None:
        prod.setenv("ORDERING_ACCESS_TOKEN_SECRET", secret)
    assert "ORDERING_ACCESS_TOKEN_SECRET" in refusal("ordering", capsys)


@pytest.mark.parametrize("supplier_secret", [None, DEV_SUPPLIER_SECRET, "s" * 31])
def test_catalog_refuses_a_missing_or_dev_webhook_secret(
    supplier_secret: str | None, prod: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prod.setenv("BOOKSHELF_ADMIN_TOKEN", REAL_TOKEN)
    if supplier_secret is not None:
        prod.setenv("SUPPLIER_WEBHOOK_SECRET", supplier_secret)
    assert "SUPPLIER_WEBHOOK_SECRET" in refusal("catalog", capsys)


def test_fulfillment_has_no_secret_setting_and_no_write_endpoint() -> None:
    """The saga worker's web view only reads; its STAFF reads take the staff token by the same rules
    (``entrypoints.web.staff_token``, unit-tested in the service). Adding a secret setting or a write
    route means adding it to DEV_SECRETS-style refusal and staff authentication first."""
    secrets = [n for n, f in FulfillmentSettings.model_fields.items() if f.annotation is SecretStr]
    assert secrets == []
    for path, view in ROUTES:
        handlers = {m for m in ("post", "put", "patch", "delete") if m in vars(view)}
        assert not handlers, f"{path} has write handlers {handlers}"
        assert inspect.iscoroutinefunction(view.get)
