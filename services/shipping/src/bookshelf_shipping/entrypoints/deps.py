"""FastAPI dependencies of the shipping routes (what bootstrap put on ``app.state``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from bookshelf_messaging import Outbox
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_shipping.service_layer.handlers import ShippingDeps


@dataclass(frozen=True)
class ShippingRuntime:
    """The wired dependencies the routes use."""

    session_factory: async_sessionmaker[AsyncSession]
    outbox: Outbox
    deps: ShippingDeps


STATE_KEY = "shipping"


def shipping_runtime(request: Request) -> ShippingRuntime:
    """The ``ShippingRuntime`` bootstrap stored on the app."""
    runtime = getattr(request.app.state, STATE_KEY)
    assert isinstance(runtime, ShippingRuntime)
    return runtime


Runtime = Annotated[ShippingRuntime, Depends(shipping_runtime)]
