"""The audit's invariants over hand-made snapshots, and its settling re-checks (no I/O)."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from bookshelf_cli.audit import audit_document, settle
from bookshelf_cli.audit_checks import Violation, run_checks
from bookshelf_cli.audit_data import Snapshot, SourceError, StockRow, _entries
from bookshelf_cli.main import app
from click.testing import Result
from typer.testing import CliRunner

BOOK, OTHER = "b-1", "b-2"


def _healthy() -> Snapshot:
    """Order o-1 CONFIRMED with 2 x BOOK reserved and a CREATED shipment; o-2 shipped; o-3 cancelled."""
    return Snapshot(
        orders={"o-1": "CONFIRMED", "o-2": "SHIPPED", "o-3": "CANCELLED"},
        open_order_lines={"o-1": {BOOK: 2}},
        stock=[
            StockRow(BOOK, on_hand=9, reserved=2, initial=10, restocked=0, committed=1),
            StockRow(OTHER, 15, 0, 10, 5, 0),
        ],
        line_sums={BOOK: (2, 1)},
        reservations={"o-1": "RESERVED", "o-2": "COMMITTED", "o-3": "RELEASED"},
        reserved_lines={"o-1": {BOOK: 2}},
        shipments={"o-1": ("s-1", "CREATED"), "o-2": ("s-2", "DISPATCHED"), "o-3": ("s-3", "CANCELLED")},
        sagas={"o-1": "AWAITING_DISPATCH", "o-2": "SHIPPED", "o-3": "CANCELLED"},
    )


def _checks(snapshot: Snapshot) -> set[tuple[str, str]]:
    return {v.key for v in run_checks(snapshot)}


def test_a_healthy_snapshot_has_no_violation() -> None:
    assert run_checks(_healthy()) == []


def test_stock_conservation_and_reserved_lines() -> None:
    s = _healthy()
    s.stock[0] = StockRow(BOOK, on_hand=8, reserved=3, initial=10, restocked=0, committed=1)
    assert _checks(s) == {("stock-conservation", BOOK), ("reserved-equals-open-lines", BOOK)}
    detail = next(v.detail for v in run_checks(s) if v.check == "stock-conservation")
    assert detail == "on_hand 8 != initial 10 + restocked 0 - committed 1 (= 9)"


def test_committed_total_matches_committed_lines() -> None:
    s = _healthy()
    s.line_sums[BOOK] = (2, 4)
    assert _checks(s) == {("committed-equals-committed-lines", BOOK)}


def test_reservations_must_belong_to_open_orders_with_the_same_lines() -> None:
    s = _healthy()
    s.orders["o-1"] = "CANCELLED"
    s.sagas = None
    s.shipments["o-1"] = ("s-1", "CANCELLED")
    assert _checks(s) == {("reservation-held-for-cancelled-order", "o-1")}
    s = _healthy()
    s.reserved_lines["o-1"] = {BOOK: 1}
    assert _checks(s) == {("reservation-lines-differ-from-order", "o-1")}
    s = _healthy()
    s.reservations["o-9"] = "RESERVED"
    assert _checks(s) == {("reservation-without-order", "o-9")}


def test_confirmed_orders_need_their_stock() -> None:
    s = _healthy()
    s.reservations["o-1"] = "RELEASED"
    s.line_sums[BOOK] = (0, 1)
    s.stock[0] = StockRow(BOOK, 9, 0, 10, 0, 1)
    assert _checks(s) == {("confirmed-order-without-reservation", "o-1")}


def test_no_shipment_left_created_for_a_cancelled_order() -> None:
    s = _healthy()
    s.shipments["o-3"] = ("s-3", "CREATED")
    [violation] = run_checks(s)
    assert violation.key == ("shipment-left-created-for-cancelled-order", "o-3")
    assert "s-3" in violation.detail


def test_shipped_orders_need_a_sent_shipment() -> None:
    s = _healthy()
    s.shipments["o-2"] = ("s-2", "CREATED")
    assert _checks(s) == {("shipped-order-shipment-not-dispatched", "o-2")}
    del s.shipments["o-2"]
    assert _checks(s) == {("shipped-order-without-shipment", "o-2")}


def test_no_released_reservation_whose_shipment_left() -> None:
    s = _healthy()
    s.reservations["o-2"] = "RELEASED"  # a cancel released the stock of a dispatched shipment
    s.line_sums[BOOK] = (2, 0)
    s.stock[0] = StockRow(BOOK, on_hand=10, reserved=2, initial=10, restocked=0, committed=0)
    s.orders["o-2"] = "CANCELLED"
    s.sagas = None
    checks = _checks(s)
    assert ("released-stock-of-dispatched-shipment", "o-2") in checks
    s.shipments["o-2"] = ("s-2", "DELIVERED")
    assert ("released-stock-of-dispatched-shipment", "o-2") in _checks(s)
    s.shipments["o-2"] = ("s-2", "CANCELLED")
    assert ("released-stock-of-dispatched-shipment", "o-2") not in _checks(s)


def test_a_cancelling_saga_fits_an_open_order() -> None:
    s = _healthy()
    assert s.sagas is not None
    s.sagas["o-1"] = "CANCELLING"
    assert _checks(s) == set()
    s.orders["o-1"], s.sagas["o-3"] = "CANCELLED", "CANCELLING"
    assert ("saga-inconsistent-with-order", "o-3") in _checks(s)


def test_saga_state_must_fit_the_order_status() -> None:
    s = _healthy()
    assert s.sagas is not None
    s.sagas["o-3"] = "AWAITING_SHIPMENT"
    s.sagas["o-2"] = "CANCELLED"
    del s.sagas["o-1"]
    assert _checks(s) == {
        ("saga-inconsistent-with-order", "o-3"),
        ("saga-inconsistent-with-order", "o-2"),
        ("order-without-saga", "o-1"),
    }
    s.sagas = None  # not read: nothing to say about sagas
    assert _checks(s) == set()


class _Rounds:
    """Scripted audit rounds on a fake clock: each round answers the next list (the last one repeats)."""

    def __init__(self, *results: list[Violation]) -> None:
        self.results = list(results)
        self.now = 0.0

    def run_once(self) -> tuple[Snapshot, list[Violation]]:
        return Snapshot(), self.results.pop(0) if len(self.results) > 1 else self.results[0]

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def settle(self, timeout_s: float) -> tuple[list[Violation], int]:
        (_, violations), rounds = settle(self.run_once, timeout_s, 1.0, self.clock, self.sleep)
        return violations, rounds


def test_settle_forgives_what_resolves_and_reports_what_persists() -> None:
    in_flight = Violation("reservation-held-for-cancelled-order", "o-1", "x")
    drift = Violation("stock-conservation", BOOK, "y")
    violations, rounds = _Rounds([in_flight, drift], [drift]).settle(5.0)
    assert violations == [drift]
    assert rounds == 6  # re-checked until the deadline: the drift stayed


def test_settle_stops_as_soon_as_all_is_well_and_new_violations_do_not_count() -> None:
    first = Violation("order-without-saga", "o-1", "x")
    newer = Violation("order-without-saga", "o-2", "x")
    assert _Rounds([first], [newer]).settle(5.0) == ([], 2)
    assert _Rounds([first]).settle(0.0) == ([first], 1)  # --settle-timeout 0: check once


def test_json_document_and_saga_pages() -> None:
    violation = Violation("stock-conservation", BOOK, "on_hand 8 != ...")
    doc = audit_document(_healthy(), [violation], ["note"], 10.0, 3)
    assert doc["ok"] is False
    assert doc["violations"] == [{"check": "stock-conservation", "id": BOOK, "detail": "on_hand 8 != ..."}]
    assert doc["checked"] == {"books": 2, "orders": 3, "reservations": 3, "shipments": 3, "sagas": 3}
    assert _entries({"entries": [{"order_id": "o"}], "has_next": True}) == ([{"order_id": "o"}], True)
    assert _entries([{"order_id": "o"}]) == ([{"order_id": "o"}], False)


def _invoke(monkeypatch: pytest.MonkeyPatch, read: Callable[..., Snapshot], *args: str) -> Result:
    monkeypatch.setattr("bookshelf_cli.audit.read_snapshot", read)
    return CliRunner().invoke(app, ["audit", "--skip-sagas", "--settle-timeout", "0", *args])


def test_audit_command_exit_status_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    healthy = _invoke(monkeypatch, lambda urls, fulfillment: _healthy(), "--json")
    assert healthy.exit_code == 0
    assert orjson.loads(healthy.stdout)["ok"] is True

    def drifted(urls: dict[str, str], fulfillment: str | None) -> Snapshot:
        snapshot = _healthy()
        snapshot.shipments["o-3"] = ("s-3", "CREATED")
        return snapshot

    drift = _invoke(monkeypatch, drifted)
    assert drift.exit_code == 1
    assert "shipment-left-created-for-cancelled-order" in drift.stdout
    assert "o-3" in drift.stdout


def test_an_unreadable_source_is_an_incomplete_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(urls: dict[str, str], fulfillment: str | None) -> Snapshot:
        raise SourceError("ordering database: PostgreSQL at h:5433/ordering does not answer")

    result = _invoke(monkeypatch, down, "--json")
    assert result.exit_code == 1
    assert orjson.loads(result.stdout) == {
        "ok": False,
        "violations": [],
        "error": "audit incomplete: ordering database: PostgreSQL at h:5433/ordering does not answer",
    }
    assert "next:" in result.stderr
