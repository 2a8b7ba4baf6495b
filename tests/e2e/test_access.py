"""Who may see and change an order, against the system `bookshelf run` started: anonymous reads of the
listings are 401; a customer reads and cancels their own order with its access token and gets 401 with
another order's; staff can do everything; tracking shows no personal data; stock held waiting for
dispatch shows in `bookshelf status`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.system import ADMIN, RunningSystem, Shop


@pytest.fixture
async def shop(running_system: RunningSystem) -> AsyncIterator[Shop]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield Shop(running_system, client)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_anonymous_reads_of_the_listings_and_views_are_401(shop: Shop) -> None:
    book = await shop.add_book("Private")
    order = await shop.place_order([(book, 1)], anonymous=True)
    order_id = order["order_id"]
    await shop.wait_saga(order_id, "AWAITING_DISPATCH")
    shipment_id = (await shop.shipment(order_id))["shipment_id"]
    system = shop.system
    reads = [
        ("ordering", "/orders"),
        ("ordering", f"/orders/{order_id}"),
        ("shipping", "/shipments"),
        ("shipping", f"/shipments/{shipment_id}"),
        ("inventory", f"/reservations/{order_id}"),
        ("fulfillment", "/fulfillments"),
        ("fulfillment", f"/fulfillments/{order_id}"),
        ("observatory", "/api/dead-letters"),
        ("observatory", "/api/overview"),
        ("observatory", f"/api/trace/{order_id}"),
    ]
    for service, path in reads:
        for headers in ({}, bearer("not-the-staff-token")):
            answer = await shop.client.get(f"{system.url(service)}{path}", headers=headers)
            assert answer.status_code == 401, (service, path, headers, answer.status_code)
            assert "E2E Customer" not in answer.text
            assert "Main St" not in answer.text
        staff = await shop.client.get(f"{system.url(service)}{path}", headers=ADMIN)
        assert staff.status_code == 200, (service, path, staff.text)
    # The dashboard's pages send a browser from another machine to the sign-in (from this machine,
    # in dev mode, it signs in by itself, which `bookshelf run` is).
    page = await shop.client.get(f"{system.url('observatory')}/dead-letters")
    assert page.status_code == 303


async def test_a_customer_reads_and_cancels_their_own_order_only(shop: Shop) -> None:
    book = await shop.add_book("Mine")
    mine = await shop.place_order([(book, 1)], anonymous=True)
    theirs = await shop.place_order([(book, 1)], anonymous=True)
    url = shop.system.url("ordering")
    own, other = bearer(mine["access_token"]), bearer(theirs["access_token"])

    read = await shop.client.get(f"{url}/orders/{mine['order_id']}", headers=own)
    assert read.status_code == 200
    assert read.json()["customer"]["name"] == "E2E Customer"
    assert "access_token" not in read.json()
    for path in (f"/orders/{mine['order_id']}", f"/orders/{mine['order_id']}/cancel"):
        method = "POST" if path.endswith("/cancel") else "GET"
        for headers in ({}, other):
            refused = await shop.client.request(method, f"{url}{path}", headers=headers)
            assert refused.status_code == 401, (method, path, headers)
    assert (await shop.client.get(f"{url}/orders", headers=own)).status_code == 401  # not staff

    cancelled = await shop.client.post(f"{url}/orders/{mine['order_id']}/cancel", headers=own)
    assert cancelled.status_code == 202, cancelled.text  # a request: the saga decides
    assert cancelled.json()["history"][-1]["reason"] == "cancellation requested (customer request)"
    await shop.wait_saga(mine["order_id"], "CANCELLED")
    await shop.wait_order(mine["order_id"], "CANCELLED")
    assert (await shop.order(theirs["order_id"]))["status"] != "CANCELLED"


async def test_staff_can_do_everything(shop: Shop) -> None:
    book = await shop.add_book("Staff")
    order = await shop.place_order([(book, 1)], anonymous=True)
    order_id = order["order_id"]
    url = shop.system.url("ordering")
    await shop.wait_saga(order_id, "AWAITING_DISPATCH")
    listed = await shop.client.get(
        f"{url}/orders", params={"customer_email": "e2e@example.com"}, headers=ADMIN
    )
    assert order_id in [o["order_id"] for o in listed.json()["entries"]] or listed.json()["total"] > 20
    assert (await shop.client.get(f"{url}/orders/{order_id}", headers=ADMIN)).status_code == 200
    assert (await shop.reservation(order_id))["status"] == "RESERVED"
    shipment = await shop.shipment(order_id)
    await shop.staff_move(shipment["shipment_id"], "dispatch")
    await shop.wait_order(order_id, "SHIPPED")
    # Once shipped, nobody can cancel: 409 at once, for the customer and for staff.
    for headers in (ADMIN, bearer(order["access_token"])):
        refused = await shop.client.post(f"{url}/orders/{order_id}/cancel", headers=headers)
        assert refused.status_code == 409, refused.text


async def test_tracking_is_public_by_id_and_shows_no_personal_data(shop: Shop) -> None:
    book = await shop.add_book("Tracked")
    order = await shop.place_order([(book, 1)], anonymous=True)
    url = f"{shop.system.url('storefront-query')}/tracking/{order['order_id']}"

    async def tracked() -> dict[str, Any]:
        answer = await shop.client.get(url)
        assert answer.status_code == 200
        body: dict[str, Any] = answer.json()
        return body

    body = await shop.wait_for(tracked, "no tracking entry")
    assert {"status", "total", "tracking_number", "history"} <= set(body)
    assert "customer_email" not in body
    for personal in ("e2e@example.com", "E2E Customer", "Main St", "Springfield"):
        assert personal not in orjson.dumps(body).decode()


async def test_status_reports_stock_held_awaiting_dispatch(shop: Shop) -> None:
    book = await shop.add_book("Held")
    order = await shop.place_order([(book, 1)])
    await shop.wait_saga(order["order_id"], "AWAITING_DISPATCH")
    held = shop.system.cli("status", "--json", "--dispatch-limit", "0")
    assert held.returncode == 0, held.stderr
    report = orjson.loads(held.stdout)["held_awaiting_dispatch"]
    assert report["error"] is None
    assert report["count"] >= 1
    assert report["limit_seconds"] == 0
    default = orjson.loads(shop.system.cli("status", "--json").stdout)["held_awaiting_dispatch"]
    assert default["limit_seconds"] == 172_800
    assert order["order_id"] not in [r["order_id"] for r in default["oldest"]]
    shown = shop.system.cli("status", "--dispatch-limit", "0")
    assert "Held awaiting dispatch" in shown.stdout
