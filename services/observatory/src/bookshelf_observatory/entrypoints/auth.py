"""Who may see the dashboard: staff only (it shows dead-lettered payloads and stack traces).

- The JSON API (``/api/...``) takes ``Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>`` or the sign-in
  cookie; anything else is a 401 problem.
- The pages redirect to ``/sign-in`` without the cookie. Signing in with the staff token sets the
  cookie ``bookshelf_staff``: HttpOnly, SameSite=Strict, Path=/ (Secure when the request came over
  HTTPS). Its value is an HMAC of a fixed label under the staff token, so the token itself never sits
  in the browser and changing the token signs everybody out.
- In dev mode (``BOOKSHELF_ENV=dev``) a request from the loopback interface signs in by itself.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import quote

from bookshelf_servicekit.auth import bearer_token, invalid_token, is_staff_token, staff_scheme
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

COOKIE = "bookshelf_staff"
COOKIE_MAX_AGE_S = 12 * 3600
_LABEL = b"bookshelf observatory staff session v1"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class SignInRequired(Exception):
    """A page was asked for without the sign-in cookie: redirect to the sign-in (or sign in by itself)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _admin_token(request: Request) -> str:
    return str(request.app.state.admin_token)


def session_value(request: Request) -> str:
    """The cookie value that proves a sign-in with the current staff token."""
    return hmac.new(_admin_token(request).encode(), _LABEL, hashlib.sha256).hexdigest()


def has_session(request: Request) -> bool:
    """True when the request carries a valid sign-in cookie."""
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(request).encode())


def may_sign_in_by_itself(request: Request) -> bool:
    """Dev mode, and the request comes from this machine."""
    settings = request.app.state.settings
    client = request.client.host if request.client else ""
    return bool(settings is not None and settings.is_dev and client in LOOPBACK)


def safe_next(path: str | None) -> str:
    """Only a local path is followed after signing in (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


async def require_api_staff(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(staff_scheme)] = None,
) -> None:
    """The JSON API: the sign-in cookie, or the staff bearer token; else 401."""
    if has_session(request):
        return
    token = bearer_token(
        request, missing="staff only: sign in, or send Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>"
    )
    if not is_staff_token(request, token):
        raise invalid_token()


async def require_page_staff(request: Request) -> None:
    """The pages: the sign-in cookie (or the staff bearer token), else a redirect to sign in."""
    if has_session(request):
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip() and is_staff_token(request, token.strip()):
        return
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise SignInRequired(target)


def sign_in_location(next_path: str) -> str:
    """Where a page without a sign-in redirects to."""
    return f"/sign-in?next={quote(safe_next(next_path), safe='')}"


ApiStaff = Annotated[None, Depends(require_api_staff)]
PageStaff = Annotated[None, Depends(require_page_staff)]
