"""Every secret check goes through ``hmac.compare_digest``: the staff token and the webhook signature.

A spy wraps the real function (the comparison still happens) and records what it compared, so a
refactoring back to ``==`` fails here. docs/reference/http.md names one signed webhook (the catalog's
BookSupply).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import httpx
import pytest
from bookshelf_catalog.entrypoints import webhooks
from bookshelf_servicekit import auth

from tests.contract.harness import ADMIN_TOKEN, SUPPLIER_SECRET, build_app

pytestmark = pytest.mark.unit


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    return calls


@pytest.mark.parametrize(("token", "status"), [("wrong-token", 401), ("x" * 1000, 401)])
async def test_staff_token_is_compared_in_constant_time(
    compared: list[tuple[Any, Any]], token: str, status: int
) -> None:
    app = build_app("shipping").app
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://shipping") as http:
        response = await http.post(
            "/shipments/00000000-0000-0000-0000-000000000000/dispatch",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == status
    assert compared == [(token.encode(), ADMIN_TOKEN.encode())]


def test_webhook_signature_is_compared_in_constant_time(compared: list[tuple[Any, Any]]) -> None:
    body, timestamp = b'{"event_type": "x"}', str(int(time.time()))
    good = webhooks.sign(SUPPLIER_SECRET, timestamp, body)
    webhooks.verify_signature(SUPPLIER_SECRET, timestamp, good, body, now=time.time(), tolerance_s=300)
    with pytest.raises(auth.Unauthorized):
        webhooks.verify_signature(
            SUPPLIER_SECRET, timestamp, "sha256=" + "0" * 64, body, now=time.time(), tolerance_s=300
        )
    assert [a for a, _ in compared] == [good.encode(), ("sha256=" + "0" * 64).encode()]
    assert all(b == good.encode() for _, b in compared)
