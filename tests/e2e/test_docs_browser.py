"""Each service's `/docs` (Swagger UI, served with its own assets) driven in Chromium against the running
system, as a person would: "Authorize" with the staff token, "Try it out", "Execute". In the catalog a
book is created (refused with 401 before authorising); every other service with staff operations
answers one authorised call; the read side, which has none, answers one call."""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
from bookshelf_infra.testing import eventually
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.chromium import WAIT_MS, needs_chromium
from tests.e2e.system import ADMIN, RunningSystem

STAFF_TOKEN = ADMIN["Authorization"].removeprefix("Bearer ")

pytestmark = needs_chromium


class SwaggerPage:
    """One service's /docs page and the steps a person takes in it."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(base) else self.outside.append(r.url))

    async def open(self) -> None:
        await self.page.goto(f"{self.base}/docs")
        await expect(self.page.locator(".swagger-ui .information-container .title")).to_be_visible()

    async def authorize(self, scheme: str = "staffToken", token: str = STAFF_TOKEN) -> None:
        """The Authorize button, the scheme's token field, its Authorize button, Close."""
        await self.page.locator(".auth-wrapper button.authorize").click()
        container = self.page.locator(".auth-container").filter(has_text=scheme)
        await container.locator("input").fill(token)
        await container.locator('button[aria-label="Apply credentials"]').click()  # "Authorize"
        await expect(
            container.locator('button[aria-label="Remove authorization"]')
        ).to_be_visible()  # "Logout"
        await self.page.locator(".modal-ux button.btn-done").first.click()  # "Close"

    async def execute(
        self,
        tag: str,
        operation_id: str,
        *,
        parameters: dict[str, str] | None = None,
        body: object | None = None,
    ) -> tuple[int, str]:
        """Expand the operation, Try it out, fill it in, Execute; the answered status and body."""
        block = self.page.locator(f"#operations-{tag.replace(' ', '_')}-{operation_id}")
        if not await block.locator(".opblock-body").is_visible():
            await block.locator(".opblock-summary").first.click()
        try_out = block.get_by_role("button", name="Try it out")
        if await try_out.count():  # a second call finds the form already open (Cancel, Reset)
            await try_out.click()
        for name, value in (parameters or {}).items():
            await block.locator(f'tr[data-param-name="{name}"] input').fill(value)
        if body is not None:
            await block.locator("textarea.body-param__text").fill(orjson.dumps(body).decode())
        clear = block.locator("button.btn-clear")
        if await clear.count():
            await clear.click()  # a previous answer must not be read as this one
        await block.locator("button.execute").click()
        status = block.locator(".live-responses-table .response .response-col_status")
        await expect(status).to_have_text(re.compile(r"^\d{3}"), timeout=WAIT_MS)
        code = int((await status.inner_text()).strip()[:3])
        answer = await block.locator(".live-responses-table .response-col_description pre").first.inner_text()
        return code, answer


async def test_docs_authorise_with_the_staff_token_and_create_a_book(
    running_system: RunningSystem, browser: BrowserContext
) -> None:
    system = running_system
    title = f"Swagger {uuid.uuid4()}"
    book = {"title": title, "author": "Browser E2E", "price": {"amount": "12.50", "currency": "USD"}}

    catalog = SwaggerPage(await browser.new_page(), system.url("catalog"))
    await catalog.open()
    status, _ = await catalog.execute("books", "add_book_books_post", body=book)
    assert status == 401  # "Try it out" without the token
    await catalog.authorize()
    status, answer = await catalog.execute("books", "add_book_books_post", body=book)
    assert status == 201, answer
    book_id = orjson.loads(answer)["book_id"]
    async with httpx.AsyncClient(timeout=10) as client:
        created = await client.get(f"{system.url('catalog')}/books/{book_id}")
    assert created.status_code == 200
    assert created.json()["title"] == title

    calls = {
        "inventory": ("inventory", "restock_book_inventory__book_id__restock_post", {"book_id": book_id}),
        "ordering": ("orders", "list_orders_orders_get", {}),
        "shipping": ("shipments", "list_shipments_shipments_get", {}),
        "observatory": ("observatory", "overview_api_overview_get", {}),
    }
    pages = {"catalog": catalog}
    for service, (tag, operation_id, parameters) in calls.items():
        docs = SwaggerPage(await browser.new_page(), system.url(service))
        await docs.open()
        await docs.authorize()
        body = {"quantity": 3} if service == "inventory" else None
        if service == "inventory":  # the stock record appears once inventory consumed BookAdded
            async with httpx.AsyncClient(timeout=10) as client:

                async def stocked() -> bool:
                    url = f"{system.url('inventory')}/inventory/{book_id}"
                    return (await client.get(url)).status_code == 200

                await eventually(
                    stocked, timeout=60, interval=0.2, message="inventory never stocked the book"
                )
        status, answer = await docs.execute(tag, operation_id, parameters=parameters, body=body)
        assert status == 200, f"{service}: {status} {answer}"
        pages[service] = docs

    storefront = SwaggerPage(await browser.new_page(), system.url("storefront-query"))
    await storefront.open()
    status, answer = await storefront.execute("catalog", "list_catalog_catalog_get")
    assert status == 200, answer
    pages["storefront-query"] = storefront

    for service, docs in pages.items():
        assert docs.outside == [], f"{service}/docs fetched {docs.outside}"
