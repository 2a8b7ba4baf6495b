"""Bearer authentication: the staff token (``BOOKSHELF_ADMIN_TOKEN``) and per-resource access tokens.

Both are declared in OpenAPI as HTTP bearer schemes (``staffToken``, ``orderToken``), so the Authorize
button of ``/docs`` sends them. Tokens are compared in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ADMIN_TOKEN_STATE = "admin_token"

staff_scheme = HTTPBearer(
    scheme_name="staffToken",
    description="Staff: `Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>` (`dev-admin-token` in dev mode).",
    auto_error=False,
)
order_scheme = HTTPBearer(
    scheme_name="orderToken",
    description="A customer: the `access_token` that `POST /orders` answered with the order.",
    auto_error=False,
)


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


def bearer_token(request: Request, *, missing: str) -> str:
    """The request's bearer token; 401 (``missing`` as the detail) without one, 401 when malformed."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized(missing)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            'Authorization must use the "Bearer" scheme', challenge='Bearer error="invalid_request"'
        )
    return token.strip()


def is_staff_token(request: Request, token: str) -> bool:
    """True when ``token`` is the staff token (constant-time comparison)."""
    return hmac.compare_digest(token.encode(), _expected_token(request))


def token_hash(token: str) -> str:
    """The hex SHA-256 of an access token: what is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def matches_hash(token: str, stored_hash: str | None) -> bool:
    """True when ``token`` hashes to ``stored_hash`` (constant-time comparison)."""
    if not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token).encode(), stored_hash.encode())


def invalid_token() -> Unauthorized:
    """The 401 for a token that is not valid here (the same whether or not the resource exists)."""
    return Unauthorized("the bearer token is not valid", challenge='Bearer error="invalid_token"')


async def require_staff(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(staff_scheme)] = None,
) -> None:
    """Dependency of STAFF routes: a bearer token equal (constant time) to the admin token."""
    token = bearer_token(
        request, missing="staff endpoint: send Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>"
    )
    if not is_staff_token(request, token):
        raise invalid_token()


Staff = Annotated[None, Depends(require_staff)]
