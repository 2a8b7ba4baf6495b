"""Staff authentication: ``Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

ADMIN_TOKEN_STATE = "admin_token"


class Unauthorized(Exception):
    """Missing or bad credentials (401 problem+json with ``WWW-Authenticate``)."""

    def __init__(self, message: str, *, challenge: str = "Bearer") -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": challenge}


def _expected_token(request: Request) -> bytes:
    token = getattr(request.app.state, ADMIN_TOKEN_STATE, None)
    if not token:
        raise RuntimeError("create_app(admin_token=...) was not given; staff routes cannot authenticate")
    return str(token).encode()


async def require_staff(request: Request) -> None:
    """Dependency of STAFF routes: a bearer token equal (constant time) to the admin token."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("staff endpoint: send Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            'Authorization must use the "Bearer" scheme', challenge='Bearer error="invalid_request"'
        )
    if not hmac.compare_digest(token.strip().encode(), _expected_token(request)):
        raise Unauthorized("the bearer token is not valid", challenge='Bearer error="invalid_token"')


Staff = Annotated[None, Depends(require_staff)]
