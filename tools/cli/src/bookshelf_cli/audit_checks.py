"""The cross-service invariants of docs/domain.md as pure functions over a Snapshot (no I/O).

Each check returns the violations it finds; a violation names its check, the id it is about and
what is wrong, with the numbers or states that disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bookshelf_cli.audit_data import Snapshot


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which check, about which id, and what disagrees."""

    check: str
    subject: str
    detail: str

    @property
    def key(self) -> tuple[str, str]:
        """Identity across re-checks (the detail may change while a saga moves)."""
        return (self.check, self.subject)


OPEN_ORDER = ("PENDING", "CONFIRMED")
GOODS_LEFT = ("SHIPPED", "DELIVERED")
# Order statuses each saga state allows (the saga table of docs/domain.md; a command in flight is re-checked).
SAGA_ORDER_STATUS: dict[str, tuple[str, ...]] = {
    "AWAITING_STOCK": ("PENDING",),
    "AWAITING_SHIPMENT": ("PENDING", "CONFIRMED"),
    "AWAITING_DISPATCH": ("CONFIRMED",),
    "CANCELLING": ("PENDING", "CONFIRMED"),
    "SHIPPED": ("SHIPPED",),
    "DELIVERED": ("DELIVERED",),
    "CANCELLED": ("CANCELLED",),
}


def stock_conservation(s: Snapshot) -> list[Violation]:
    """Per book: on_hand = initial + restocked - committed."""
    return [
        Violation(
            "stock-conservation",
            row.book_id,
            f"on_hand {row.on_hand} != initial {row.initial} + restocked {row.restocked} - committed "
            f"{row.committed} (= {row.initial + row.restocked - row.committed})",
        )
        for row in s.stock
        if row.on_hand != row.initial + row.restocked - row.committed
    ]


def reserved_equals_open_lines(s: Snapshot) -> list[Violation]:
    """Per book: reserved = sum of open (RESERVED) reservation lines; committed_total = COMMITTED lines."""
    found: list[Violation] = []
    for row in s.stock:
        open_lines, committed_lines = s.line_sums.get(row.book_id, (0, 0))
        if row.reserved != open_lines:
            found.append(
                Violation(
                    "reserved-equals-open-lines",
                    row.book_id,
                    f"reserved {row.reserved} but open reservation lines sum to {open_lines}",
                )
            )
        if row.committed != committed_lines:
            found.append(
                Violation(
                    "committed-equals-committed-lines",
                    row.book_id,
                    f"committed_total {row.committed} but committed reservation lines sum to {committed_lines}",
                )
            )
    known = {row.book_id for row in s.stock}
    found += [
        Violation(
            "reservation-for-unknown-book", book, f"{sums[0]} reserved for a book without a stock record"
        )
        for book, sums in s.line_sums.items()
        if book not in known and sums[0]
    ]
    return found


def _reservation_problem(s: Snapshot, order_id: str) -> tuple[str, str] | None:
    status = s.orders.get(order_id)
    if status is None:
        return "reservation-without-order", "stock is reserved for an order ordering does not know"
    if status == "CANCELLED":
        return (
            "reservation-held-for-cancelled-order",
            "the order is CANCELLED but its stock is still RESERVED",
        )
    if status in GOODS_LEFT:
        return "reservation-not-committed", f"the order is {status} but its stock is RESERVED, not COMMITTED"
    wanted, held = s.open_order_lines.get(order_id, {}), s.reserved_lines.get(order_id, {})
    if wanted != held:
        return "reservation-lines-differ-from-order", f"order lines {wanted} but reserved {held}"
    return None


def reservations_match_orders(s: Snapshot) -> list[Violation]:
    """RESERVED reservations belong to open orders and hold exactly their lines; none committed for a cancel."""
    found = []
    for order_id, status in s.reservations.items():
        if status == "RESERVED" and (problem := _reservation_problem(s, order_id)):
            found.append(Violation(problem[0], order_id, problem[1]))
        elif status == "COMMITTED" and s.orders.get(order_id) == "CANCELLED":
            found.append(
                Violation("stock-committed-for-cancelled-order", order_id, "goods left for a CANCELLED order")
            )
    return found


def orders_hold_stock(s: Snapshot) -> list[Violation]:
    """No order CONFIRMED (or further) without its stock RESERVED or COMMITTED."""
    found = []
    for order_id, status in s.orders.items():
        held = s.reservations.get(order_id)
        if status == "CONFIRMED" and held not in ("RESERVED", "COMMITTED"):
            found.append(
                Violation(
                    "confirmed-order-without-reservation", order_id, f"reservation is {held or 'missing'}"
                )
            )
        elif status in GOODS_LEFT and held is None:
            found.append(
                Violation("shipped-order-without-reservation", order_id, f"order is {status}, no reservation")
            )
    return found


def released_stock_that_left(s: Snapshot) -> list[Violation]:
    """No RELEASED reservation whose shipment was dispatched: those units left the warehouse and would
    be sold again (phantom stock that conservation alone cannot see)."""
    found = []
    for order_id, status in s.reservations.items():
        shipment = s.shipments.get(order_id)
        if status == "RELEASED" and shipment is not None and shipment[1] in ("DISPATCHED", "DELIVERED"):
            found.append(
                Violation(
                    "released-stock-of-dispatched-shipment",
                    order_id,
                    f"the reservation was RELEASED but shipment {shipment[0]} is {shipment[1]}",
                )
            )
    return found


def _shipment_problem(order_status: str | None, shipment_status: str) -> tuple[str, str] | None:
    if order_status is None:
        return "shipment-without-order", f"{shipment_status} shipment for an order ordering does not know"
    if order_status == "CANCELLED" and shipment_status == "CREATED":
        return (
            "shipment-left-created-for-cancelled-order",
            "the order is CANCELLED, the shipment still CREATED",
        )
    if order_status == "CANCELLED" and shipment_status in ("DISPATCHED", "DELIVERED"):
        return "shipment-sent-for-cancelled-order", f"the order is CANCELLED, the shipment {shipment_status}"
    if order_status == "SHIPPED" and shipment_status not in ("DISPATCHED", "DELIVERED"):
        return (
            "shipped-order-shipment-not-dispatched",
            f"the order is SHIPPED, the shipment {shipment_status}",
        )
    if order_status == "DELIVERED" and shipment_status != "DELIVERED":
        return (
            "delivered-order-shipment-not-delivered",
            f"the order is DELIVERED, the shipment {shipment_status}",
        )
    return None


def shipments_match_orders(s: Snapshot) -> list[Violation]:
    """No shipment left CREATED (or sent) for a cancelled order; shipped orders have a sent shipment."""
    found = []
    for order_id, (shipment_id, status) in s.shipments.items():
        if problem := _shipment_problem(s.orders.get(order_id), status):
            found.append(Violation(problem[0], order_id, f"{problem[1]} (shipment {shipment_id})"))
    found += [
        Violation("shipped-order-without-shipment", order_id, f"order is {status}, shipping has no shipment")
        for order_id, status in s.orders.items()
        if status in GOODS_LEFT and order_id not in s.shipments
    ]
    return found


def sagas_match_orders(s: Snapshot) -> list[Violation]:
    """Each saga's state fits its order's status (CANCELLED <=> CANCELLED, SHIPPED <=> SHIPPED, ...)."""
    if s.sagas is None:
        return []
    found = []
    for order_id, state in s.sagas.items():
        status = s.orders.get(order_id)
        allowed = SAGA_ORDER_STATUS.get(state)
        if status is None:
            found.append(
                Violation("saga-without-order", order_id, f"saga {state} for an order ordering does not know")
            )
        elif allowed is None or status not in allowed:
            found.append(Violation("saga-inconsistent-with-order", order_id, f"saga {state}, order {status}"))
    found += [
        Violation("order-without-saga", order_id, f"order {status} has no saga instance")
        for order_id, status in s.orders.items()
        if order_id not in s.sagas
    ]
    return found


CHECKS: tuple[Callable[[Snapshot], list[Violation]], ...] = (
    stock_conservation,
    reserved_equals_open_lines,
    reservations_match_orders,
    released_stock_that_left,
    orders_hold_stock,
    shipments_match_orders,
    sagas_match_orders,
)


def run_checks(snapshot: Snapshot) -> list[Violation]:
    """Every violation in a snapshot, by check then id."""
    return sorted((v for check in CHECKS for v in check(snapshot)), key=lambda v: v.key)
