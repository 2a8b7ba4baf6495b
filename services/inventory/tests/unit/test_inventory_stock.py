"""docs/domain.md "Inventory": a stock record's levels, versions and events."""

from __future__ import annotations

import uuid

import pytest
from bookshelf_contracts import InventoryLevelChanged, StockRestocked
from bookshelf_inventory.domain.exceptions import InvalidQuantity, StockInvariantBroken
from bookshelf_inventory.domain.stock import StockRecord


def _record(on_hand: int = 10) -> StockRecord:
    record = StockRecord.create(uuid.uuid4(), on_hand)
    record.events.clear()
    return record


def _levels(record: StockRecord) -> list[InventoryLevelChanged]:
    return [e for e in record.events if isinstance(e, InventoryLevelChanged)]


def test_created_with_initial_stock_nothing_reserved_version_1() -> None:
    book_id = uuid.uuid4()
    record = StockRecord.create(book_id, 10)
    assert (record.on_hand, record.reserved, record.available, record.version) == (10, 0, 10, 1)
    assert record.events == [
        InventoryLevelChanged(book_id=book_id, on_hand=10, reserved=0, available=10, version=1)
    ]


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_initial_stock_must_be_a_non_negative_int(bad: object) -> None:
    with pytest.raises(InvalidQuantity, match="initial_stock"):
        StockRecord.create(uuid.uuid4(), bad)  # type: ignore[arg-type]


def test_restock_adds_on_hand_and_records_restocked_then_level() -> None:
    record = _record()
    record.restock(5)
    assert (record.on_hand, record.available, record.version, record.restocked) == (15, 15, 2, 5)
    restocked, level = record.events
    assert restocked == StockRestocked(book_id=record.book_id, quantity=5, on_hand=15, version=2)
    assert level == InventoryLevelChanged(
        book_id=record.book_id, on_hand=15, reserved=0, available=15, version=2
    )


@pytest.mark.parametrize("quantity", [0, -3, 100_001, True, "5", 2.0])
def test_restock_quantity_must_be_1_to_100000(quantity: object) -> None:
    record = _record()
    with pytest.raises(InvalidQuantity) as raised:
        record.restock(quantity)  # type: ignore[arg-type]
    assert "quantity" in str(raised.value)
    assert repr(quantity) in str(raised.value)
    assert (record.on_hand, record.version, record.events) == (10, 1, [])


def test_restock_accepts_the_bounds() -> None:
    record = _record()
    record.restock(1)
    record.restock(100_000)
    assert record.on_hand == 100_011


def test_reserve_moves_available_to_reserved() -> None:
    record = _record()
    record.reserve(4)
    assert (record.on_hand, record.reserved, record.available, record.version) == (10, 4, 6, 2)
    assert _levels(record)[-1].available == 6


def test_reserve_more_than_available_is_refused_and_changes_nothing() -> None:
    record = _record(3)
    record.reserve(2)
    with pytest.raises(StockInvariantBroken, match="only 1 available"):
        record.reserve(2)
    assert (record.reserved, record.available, record.version) == (2, 1, 2)


def test_release_returns_reserved_units() -> None:
    record = _record()
    record.reserve(4)
    record.release(4)
    assert (record.on_hand, record.reserved, record.available, record.version) == (10, 0, 10, 3)


def test_release_more_than_reserved_is_refused() -> None:
    record = _record()
    record.reserve(1)
    with pytest.raises(StockInvariantBroken, match="only 1 reserved"):
        record.release(2)


def test_commit_lowers_on_hand_and_reserved() -> None:
    record = _record()
    record.reserve(4)
    record.commit(4)
    assert (record.on_hand, record.reserved, record.available, record.committed) == (6, 0, 6, 4)


def test_commit_more_than_reserved_is_refused() -> None:
    record = _record()
    with pytest.raises(StockInvariantBroken):
        record.commit(1)


@pytest.mark.parametrize("action", ["reserve", "release", "commit"])
def test_zero_or_negative_quantities_are_refused(action: str) -> None:
    record = _record()
    with pytest.raises(StockInvariantBroken, match="must be >= 1"):
        getattr(record, action)(0)


def test_every_change_bumps_the_version_and_records_absolute_levels() -> None:
    record = _record()
    record.reserve(3)
    record.restock(2)
    record.commit(2)
    record.release(1)
    versions = [e.version for e in _levels(record)]
    assert versions == [2, 3, 4, 5]
    last = _levels(record)[-1]
    assert (last.on_hand, last.reserved, last.available) == (10, 0, 10)


def test_conservation_on_hand_equals_initial_plus_restocked_minus_committed() -> None:
    record = _record(10)
    record.restock(7)
    record.reserve(5)
    record.commit(3)
    record.release(2)
    assert record.on_hand == record.initial + record.restocked - record.committed == 14
    assert record.available >= 0
    assert record.reserved == 0
