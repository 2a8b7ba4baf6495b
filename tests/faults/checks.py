"""The invariants checked after a scenario settled, over every order of the session.

Each finding is filed as *lost* (an accepted effect missing), *duplicated* (an effect applied twice),
*stuck* (an order neither terminal nor in an expected waiting state) or *drift* (two services or a
read model disagree). The expected numbers come from the load's ledger, not from the system itself.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from tests.faults.load import Ledger
from tests.faults.world import OPEN_SAGA, World

INITIAL_STOCK = 10
HELD = ("CONFIRMED", "SHIPPED", "DELIVERED")


@dataclass
class Findings:
    """What broke, by kind; every list must be empty."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def merge(self, other: Findings) -> None:
        for name in ("lost", "duplicated", "stuck", "drift"):
            getattr(self, name).extend(getattr(other, name))


def _twice(values: list[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check_orders(world: World, ledger: Ledger, forgotten: set[str]) -> Findings:
    """Every accepted order exists once, ended where it should, with one saga run and one shipment
    (``forgotten``: orders whose saga instance may legitimately be gone)."""
    found = Findings()
    for order_id, placed in ledger.orders.items():
        order = world.orders.get(order_id)
        if order is None:
            found.lost.append(f"order {order_id} accepted but unknown to ordering")
            continue
        status = order["status"]
        if (placed.customer_cancel or placed.country != "US") and status != "CANCELLED":
            found.lost.append(f"order {order_id}: cancelled or undeliverable, but {status}")
        if twice := _twice(_status_changes(order["history"])):
            found.duplicated.append(f"order {order_id}: status history repeats {twice}")
        if order_id not in forgotten or order_id in world.sagas:
            found.merge(_check_saga(order_id, status, world))
        found.merge(_check_shipment(order_id, status, world))
    unknown = [o for o in world.orders if o not in ledger.orders]
    found.duplicated += [f"order {o} exists but was never accepted (a retried POST?)" for o in unknown]
    return found


def _status_changes(history: list[dict[str, str]]) -> list[str]:
    """The statuses an order moved to; a cancellation request keeps the status, so its entry repeats
    the status before it and is not a move."""
    moves = [entry["status"] for entry in history[:1]]
    moves += [
        now["status"] for before, now in itertools.pairwise(history) if now["status"] != before["status"]
    ]
    return moves


def _check_saga(order_id: str, status: str, world: World) -> Findings:
    found = Findings()
    saga = world.sagas.get(order_id)
    if saga is None:
        found.lost.append(f"order {order_id} ({status}) has no saga")
        return found
    moves = [h["action"].rsplit("-> ", 1)[1] for h in saga["history"] if "-> " in h["action"]]
    if twice := _twice(moves):
        found.duplicated.append(f"saga {order_id}: transitions repeat {twice}")
    if status in ("DELIVERED", "CANCELLED"):
        if saga["state"] != status:
            found.drift.append(f"order {order_id} {status}, saga {saga['state']}")
    elif not (status == "CONFIRMED" and saga["state"] == OPEN_SAGA):
        found.stuck.append(f"order {order_id} {status}, saga {saga['state']}")
    return found


def _check_shipment(order_id: str, status: str, world: World) -> Findings:
    found = Findings()
    shipments = world.shipments.get(order_id, [])
    if len(shipments) > 1:
        found.duplicated.append(f"order {order_id}: {len(shipments)} shipments")
    states = [s["status"] for s in shipments]
    if status == "CANCELLED" and any(s in ("CREATED", "DISPATCHED", "DELIVERED") for s in states):
        found.drift.append(f"order {order_id} CANCELLED, shipment {states}")
    if status == "CONFIRMED" and states != ["CREATED"]:
        found.drift.append(f"order {order_id} CONFIRMED, shipment {states}")
    if status == "DELIVERED" and states != ["DELIVERED"]:
        found.drift.append(f"order {order_id} DELIVERED, shipment {states}")
    return found


def check_reservations(world: World) -> Findings:
    """No order holds goods without its reservation; each reservation holds exactly its order's lines."""
    found = Findings()
    wanted_state = {"CONFIRMED": "RESERVED", "DELIVERED": "COMMITTED"}
    for order_id, order in world.orders.items():
        reservation = world.reservations.get(order_id)
        state = reservation["status"] if reservation else None
        if order["status"] in wanted_state and state != wanted_state[order["status"]]:
            found.drift.append(f"order {order_id} {order['status']} but reservation {state}")
        if order["status"] == "CANCELLED" and state not in (None, "RELEASED"):
            found.drift.append(f"order {order_id} CANCELLED but reservation {state}")
        if reservation is not None:
            lines = Counter[str]()
            for line in reservation["lines"]:
                lines[line["book_id"]] += line["quantity"]
            ordered = Counter({i["book_id"]: i["quantity"] for i in order["items"]})
            if lines != ordered:
                kind = found.duplicated if sum(lines.values()) > sum(ordered.values()) else found.drift
                kind.append(f"reservation {order_id}: {dict(lines)} for order lines {dict(ordered)}")
    return found


def _units(world: World, statuses: tuple[str, ...]) -> Counter[str]:
    units: Counter[str] = Counter()
    for order in world.orders.values():
        if order["status"] in statuses:
            for item in order["items"]:
                units[item["book_id"]] += item["quantity"]
    return units


def check_stock(world: World, ledger: Ledger) -> Findings:
    """Conservation against the ledger: on_hand = initial + restocks - delivered; reserved = confirmed."""
    found = Findings()
    committed, reserved = _units(world, ("SHIPPED", "DELIVERED")), _units(world, ("CONFIRMED",))
    for book_id, stock in world.stock.items():
        on_hand = INITIAL_STOCK + ledger.restocked[book_id] - committed[book_id]
        for name, want, have in (
            ("on_hand", on_hand, stock["on_hand"]),
            ("reserved", reserved[book_id], stock["reserved"]),
        ):
            if want != have:
                kind = found.duplicated if have > want else found.lost
                kind.append(f"book {book_id}: {name} {have}, expected {want}")
        if stock["available"] != stock["on_hand"] - stock["reserved"] or stock["available"] < 0:
            found.drift.append(f"book {book_id}: available {stock['available']} of {stock}")
    found.lost += [f"book {b} has no stock record" for b in ledger.books if b not in world.stock]
    return found


def check_read_models(world: World) -> Findings:
    """The storefront's read models agree with the services they are built from, each event once."""
    found = Findings()
    for book_id, stock in world.stock.items():
        view = world.storefront.get(book_id)
        book = world.books.get(book_id)
        if view is None or book is None:
            found.lost.append(f"book {book_id}: storefront {view is not None}, catalog {book is not None}")
            continue
        if view["available"] != stock["available"] or view["price"] != book["price"]:
            found.drift.append(f"storefront {book_id}: {view} vs stock {stock} price {book['price']}")
        if world.catalog_view.get(book_id, {}).get("price") != book["price"]:
            found.drift.append(
                f"catalog view {book_id}: {world.catalog_view.get(book_id)} vs {book['price']}"
            )
    sold = _units(world, HELD)
    for book_id, report in world.reports.items():
        if report["units_sold"] != sold[book_id]:
            kind = found.duplicated if report["units_sold"] > sold[book_id] else found.lost
            kind.append(f"report {book_id}: units_sold {report['units_sold']}, expected {sold[book_id]}")
    for order_id, order in world.orders.items():
        tracking = world.tracking.get(order_id)
        if tracking is None:
            found.lost.append(f"order {order_id}: no tracking entry")
            continue
        if tracking["status"] != order["status"]:
            found.drift.append(f"tracking {order_id}: {tracking['status']}, order {order['status']}")
        steps = [f"{s['source']}:{s['event']}:{s['status']}" for s in tracking["history"]]
        if twice := _twice(steps):
            found.duplicated.append(f"tracking {order_id}: steps repeat {twice}")
    return found


def check_world(world: World, ledger: Ledger, forgotten: set[str]) -> Findings:
    """Every check above."""
    found = Findings()
    for part in (
        check_orders(world, ledger, forgotten),
        check_reservations(world),
        check_stock(world, ledger),
        check_read_models(world),
    ):
        found.merge(part)
    return found
