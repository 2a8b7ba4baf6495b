"""A Schemathesis case as the arguments of ``httpx.AsyncClient.request``.

Schemathesis serializes a case for ``requests`` (``as_transport_kwargs``); the services run
in-process behind ``httpx.ASGITransport`` on their own event loop, so the serialized request is
translated rather than sent through Schemathesis' own ASGI transport (which would run the app on
another loop than its database pool).
"""

from __future__ import annotations

import json
from typing import Any

from tests.contract.harness import STAFF

BASE_URL = "http://service"


def _body(kwargs: dict[str, Any]) -> dict[str, Any]:
    if "json" in kwargs:
        return {"content": json.dumps(kwargs["json"]).encode()}
    data = kwargs.get("data")
    if isinstance(data, str | bytes):
        return {"content": data.encode() if isinstance(data, str) else data}
    if data is not None:
        return {"data": data}
    if kwargs.get("files") is not None:
        return {"files": kwargs["files"]}
    return {}


def request_of(case: Any) -> tuple[str, str, dict[str, Any]]:
    """``(method, path, kwargs)`` of a case, with the admin token added to its headers."""
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=BASE_URL, headers=dict(STAFF))
    url: str = kwargs["url"]
    path = url[len(BASE_URL) :] if url.startswith(BASE_URL) else url
    headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
    if "json" in kwargs:
        headers.setdefault("Content-Type", "application/json")
    request: dict[str, Any] = {"headers": headers, **_body(kwargs)}
    if kwargs.get("params"):
        request["params"] = kwargs["params"]
    return str(kwargs["method"]).upper(), path, request
