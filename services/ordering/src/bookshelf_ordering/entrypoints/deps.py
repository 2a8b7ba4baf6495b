"""FastAPI dependencies: the service's session factory, outbox, token deriver and rate limiter as
bootstrap stored them, and the ORDER access check (the order's access token or the staff token)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from bookshelf_messaging import Outbox
from bookshelf_servicekit.auth import (
    bearer_token,
    invalid_token,
    is_staff_token,
    matches_hash,
    order_scheme,
    staff_scheme,
)
from bookshelf_servicekit.ratelimit import RateLimiter
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_ordering.adapters import queries
from bookshelf_ordering.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_ordering.service_layer.access import OrderTokens


@dataclass(frozen=True)
class OrderingDeps:
    """What the routes need: sessions for reads, units of work for writes."""

    session_factory: async_sessionmaker[AsyncSession]
    outbox: Outbox
    tokens: OrderTokens
    place_limit: RateLimiter

    def uow(self) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work owning one transaction."""
        return SqlUnitOfWork.begin(self.session_factory, self.outbox)


STATE_KEY = "ordering"


def get_deps(request: Request) -> OrderingDeps:
    """The ``OrderingDeps`` bootstrap put on the app."""
    deps = getattr(request.app.state, STATE_KEY)
    assert isinstance(deps, OrderingDeps)
    return deps


Deps = Annotated[OrderingDeps, Depends(get_deps)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(staff_scheme)]
OrderCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(order_scheme)]


async def require_order_access(
    order_id: UUID, request: Request, deps: Deps, _staff: Credentials = None, _order: OrderCredentials = None
) -> None:
    """ORDER routes: the order's own access token or the staff token, else 401.

    The 401 is the same for an unknown order and a wrong token, so a token holder learns nothing
    about other orders (the staff token then meets the route's 404 for an unknown id).
    """
    token = bearer_token(request, missing="send Authorization: Bearer <the order's access_token>")
    if is_staff_token(request, token):
        return
    async with deps.session_factory() as session:
        stored = await queries.access_token_hash(session, order_id)
    if not matches_hash(token, stored):
        raise invalid_token()


def is_staff_request(request: Request) -> bool:
    """True when the request carries the staff token (no error otherwise)."""
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip()) and is_staff_token(request, token.strip())


async def limit_placement(request: Request, deps: Deps) -> None:
    """POST /orders: the per-client rate limit (429); staff-token requests are exempt."""
    if not deps.place_limit.enabled or is_staff_request(request):
        return
    client = request.client.host if request.client else "unknown"
    deps.place_limit.check(client)


OrderAccess = Annotated[None, Depends(require_order_access)]
PlacementLimit = Annotated[None, Depends(limit_placement)]
