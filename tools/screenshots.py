"""Screenshots of the observatory dashboard for docs/observatory.md, taken from a running system.

    make run                                   # in one terminal (or any running system)
    uv run python tools/screenshots.py         # in another: seeds with `bookshelf demo`, writes docs/images/

It runs `bookshelf demo` (idempotent: books, orders on the saga's paths, a poison record), waits until
the observatory shows a finished saga and a dead letter, then opens each page in Chromium (Playwright,
`CHROMIUM` or /usr/bin/chromium; `make browser` installs it) at 1280x900 and writes
docs/images/observatory-<page>.png. The system is found as the CLI finds it (`OBSERVATORY_PORT` or
`OBSERVATORY_URL`, `BOOKSHELF_*` ports; docs/reference/cli.md). The trace shown is the first demo
order's.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from bookshelf_cli.connect import admin_token, service_url
from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = 120_000


def seed() -> list[str]:
    """`bookshelf demo`; returns the order ids it printed (first: the happy path)."""
    done = subprocess.run(
        [sys.executable, "-m", "bookshelf_cli.main", "demo"],
        env=os.environ | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bookshelf demo failed:\n{done.stdout}{done.stderr}")
    return re.findall(r"bookshelf trace ([0-9a-f-]{36})", done.stdout)


async def wait_for_data(base: str, order_id: str) -> None:
    """Until the order's trace reaches ShipmentCreated and a dead letter is open (a deadline, not a sleep)."""
    headers = {"Authorization": f"Bearer {admin_token()}"}
    deadline = asyncio.get_running_loop().time() + WAIT_MS / 1000
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        while True:
            trace = await client.get(f"{base}/api/trace/{order_id}")
            letters = await client.get(f"{base}/api/dead-letters")
            if trace.status_code == 200 and "ShipmentCreated" in trace.text and letters.json():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise SystemExit(f"the observatory at {base} never showed the demo's saga and dead letter")
            await asyncio.sleep(0.5)  # polling a running system, bounded by the deadline


async def shoot(page: Page, url: str, ready: str, name: str) -> Path:
    await page.goto(url)
    await expect(page.locator(ready).first).to_be_visible(timeout=WAIT_MS)
    await page.wait_for_load_state("networkidle")
    path = IMAGES / f"observatory-{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path


async def main() -> None:
    base = service_url("observatory")
    orders = seed()
    if not orders:
        raise SystemExit("bookshelf demo printed no order id")
    await wait_for_data(base, orders[0])
    IMAGES.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        context = await browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        # Outside dev mode on localhost the pages need the staff sign-in (a cookie).
        await context.request.post(f"{base}/sign-in", form={"token": admin_token()})
        page = await context.new_page()
        shots = [
            await shoot(page, f"{base}/", '#services tr[data-service="catalog"] .badge', "overview"),
            await shoot(
                page,
                f"{base}/trace?q={orders[0]}",
                '#trace-tree li[data-type="ShipmentCreated"]',
                "trace",
            ),
            await shoot(page, f"{base}/dead-letters", "#dead-letter-list tr[data-entry-id]", "dead-letters"),
            await shoot(page, f"{base}/sagas", "#saga-states", "sagas"),
        ]
        await browser.close()
    for path in shots:
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
