"""orjson-rendered JSON responses (the default response class of every service)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content: Any) -> bytes:
    """JSON bytes of ``content`` (Decimal as string, pydantic models in JSON mode, UTC as ``Z``)."""
    return orjson.dumps(content, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


class OrjsonResponse(JSONResponse):
    """``application/json`` rendered with orjson."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
