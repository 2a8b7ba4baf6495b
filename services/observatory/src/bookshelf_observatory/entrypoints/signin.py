"""``/sign-in`` and ``/sign-out`` of the dashboard (see ``entrypoints.auth``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from bookshelf_servicekit.auth import is_staff_token
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from bookshelf_observatory.entrypoints.auth import (
    COOKIE,
    COOKIE_MAX_AGE_S,
    SignInRequired,
    may_sign_in_by_itself,
    safe_next,
    session_value,
    sign_in_location,
)
from bookshelf_observatory.entrypoints.pages import render

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 4096


def signed_in(request: Request, next_path: str) -> Response:
    """A redirect to ``next_path`` that sets the sign-in cookie."""
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        COOKIE,
        session_value(request),
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    """The sign-in form (in dev mode from this machine: signed in at once)."""
    if may_sign_in_by_itself(request):
        return signed_in(request, next)
    return render(request, "sign_in.html", page="sign-in", next=safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the staff token of the form; 303 to the page asked for, or the form again with a 401."""
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")) if len(body) <= MAX_FORM_BYTES else {}
    token = (form.get("token") or [""])[0].strip()
    next_path = safe_next((form.get("next") or ["/"])[0])
    if token and is_staff_token(request, token):
        return signed_in(request, next_path)
    response = render(
        request, "sign_in.html", page="sign-in", next=next_path, error="That is not the staff token."
    )
    response.status_code = 401
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    """Forget the sign-in cookie."""
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def sign_in_required(request: Request, exc: Exception) -> Response:
    """Exception handler: a page without a sign-in goes to the form (or signs in by itself in dev)."""
    assert isinstance(exc, SignInRequired)
    if may_sign_in_by_itself(request):
        return signed_in(request, exc.next_path)
    return RedirectResponse(sign_in_location(exc.next_path), status_code=303)
