"""``/docs`` and ``/redoc`` load their scripts from the service, never from a CDN."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"]),
        ("/redoc", ["/docs/static/redoc.standalone.js"]),
    ],
)
async def test_docs_pages_use_local_assets(client: httpx.AsyncClient, page: str, assets: list[str]) -> None:
    html = await client.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html.text)
    assert external == [], f"{page} loads {external}"
    assert "/openapi.json" in html.text
    for asset in assets:
        assert asset in html.text
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 10_000, asset


async def test_swagger_ui_is_version_5_which_renders_openapi_3_1(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    bundle = (await client.get("/docs/static/swagger-ui-bundle.js")).text
    assert "OpenAPI 3.1" in bundle or "openapi31" in bundle.lower()


async def test_the_assets_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
