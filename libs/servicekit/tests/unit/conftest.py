"""A tiny FastAPI app built with create_app, served in-process through httpx.ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from bookshelf_servicekit import MIB, Page, Pagination, Staff, create_app
from bookshelf_servicekit.health import Readiness
from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

TOKEN = "s3cret-token"


class ThingMissing(Exception):
    """Raised by the test route for unknown things."""


class Price(BaseModel):
    amount: Annotated[float, Field(gt=0)]
    currency: str


class Thing(BaseModel):
    name: Annotated[str, Field(min_length=1)]
    price: Price


def build_router() -> APIRouter:
    router = APIRouter()

    @router.post("/things", status_code=201)
    async def create_thing(thing: Thing, _: Staff) -> dict[str, object]:
        """Create a thing (staff)."""
        return thing.model_dump()

    @router.get("/things/{name}")
    async def get_thing(name: str) -> dict[str, str]:
        """A thing, or 404."""
        raise ThingMissing(f"no thing named {name!r}")

    @router.get("/things")
    async def list_things(page: Pagination) -> Page[int]:
        """Numbers 0..44 paginated."""
        numbers = list(range(45))
        return Page.build(numbers[page.offset : page.offset + page.limit], total=45, params=page)

    @router.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        """Counts the bytes of the body."""
        return {"size": len(await request.body())}

    @router.post("/bulk")
    async def bulk(body: Annotated[bytes, Body(media_type="application/octet-stream")]) -> dict[str, int]:
        """Large uploads allowed."""
        return {"size": len(body)}

    @router.get("/boom")
    async def boom() -> None:
        """Always fails."""
        raise RuntimeError("kaboom")

    return router


@pytest.fixture
def readiness() -> Readiness:
    return Readiness(timeout=0.5)


@pytest.fixture
async def client(readiness: Readiness) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        "test",
        admin_token=TOKEN,
        routers=[build_router()],
        problems={ThingMissing: 404},
        body_limits={"/bulk": 4 * MIB},
        readiness=readiness,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
