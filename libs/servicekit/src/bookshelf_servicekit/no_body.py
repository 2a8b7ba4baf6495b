"""``NoBody``: a write route that takes no body rejects one, so no field is silently ignored.

``POST /orders/{id}/cancel`` with ``{"reason": "..."}`` would otherwise answer 200 and drop the
reason: the same strictness as ``extra="forbid"`` on the routes that do take a body.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Depends, Request

from bookshelf_servicekit.errors import InvalidInput

EXTRA_FIELD = "Extra inputs are not permitted"
_EMPTY = (b"", b"{}", b"null")


async def reject_body(request: Request) -> None:
    """FastAPI dependency: no body, ``{}`` or ``null`` pass; anything else is a 422 naming the fields."""
    raw = (await request.body()).strip()
    if raw in _EMPTY:
        return
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = raw
    if isinstance(data, dict):
        fields = sorted(str(name) for name in data)
        raise InvalidInput(
            f"this endpoint takes no request body; unknown field(s): {', '.join(fields)}",
            [(name, EXTRA_FIELD) for name in fields],
        )
    raise InvalidInput("this endpoint takes no request body", [("body", "must be empty")])


NoBody = Annotated[None, Depends(reject_body)]
