"""The fulfillment views are STAFF: the staff token, by the services' rules, or a 401 problem."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from aiohttp import web as aioweb
from bookshelf_fulfillment.entrypoints.web import (
    DEV_ADMIN_TOKEN,
    StaffTokenRefused,
    register_views,
    staff_token,
    unauthorized,
)

REAL = "r" * 32


def view(token: str) -> Any:
    def as_bytes(body: bytes, content_type: str, status: int) -> aioweb.Response:
        return aioweb.Response(body=body, content_type=content_type, status=status)

    return SimpleNamespace(staff_token=token, bytes=as_bytes)


def request(authorization: str | None) -> Any:
    headers = {} if authorization is None else {"authorization": authorization}
    return SimpleNamespace(headers=headers, get=lambda key: "cid")


def test_dev_mode_defaults_to_the_dev_token_and_prod_is_the_default() -> None:
    assert staff_token({"BOOKSHELF_ENV": "dev"}) == DEV_ADMIN_TOKEN
    assert staff_token({"BOOKSHELF_ENV": "dev", "BOOKSHELF_ADMIN_TOKEN": "x"}) == "x"
    with pytest.raises(StaffTokenRefused, match="not set"):
        staff_token({})
    assert staff_token({"BOOKSHELF_ADMIN_TOKEN": REAL}) == REAL


@pytest.mark.parametrize(("token", "message"), [(DEV_ADMIN_TOKEN, "dev value"), ("s" * 31, "at least 32")])
def test_prod_refuses_the_dev_or_a_short_token(token: str, message: str) -> None:
    with pytest.raises(StaffTokenRefused, match=message):
        staff_token({"BOOKSHELF_ENV": "prod", "BOOKSHELF_ADMIN_TOKEN": token})


def test_the_worker_refuses_to_start_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        register_views(SimpleNamespace(), {"BOOKSHELF_ENV": "prod"})  # type: ignore[arg-type]
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("fulfillment: refusing to start: BOOKSHELF_ADMIN_TOKEN")


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", f"Basic {REAL}", REAL])
def test_anything_but_the_staff_token_is_a_401_problem(authorization: str | None) -> None:
    answer = unauthorized(view(REAL), request(authorization))
    assert answer is not None
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.content_type == "application/problem+json"
    assert orjson.loads(answer.body)["status"] == 401


def test_the_staff_token_passes() -> None:
    assert unauthorized(view(REAL), request(f"Bearer {REAL}")) is None
    assert unauthorized(view(REAL), request(f"bearer  {REAL} ")) is None
