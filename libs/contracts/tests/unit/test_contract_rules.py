import inspect
from datetime import datetime

import bookshelf_contracts as c
import pytest
from bookshelf_contracts import CONTRACTS, Message
from pydantic import BaseModel, ValidationError

AGGREGATE_EVENTS = {
    "BookAdded",
    "BookPriceUpdated",
    "BookDetailsUpdated",
    "StockRestocked",
    "InventoryLevelChanged",
    "OrderPlaced",
    "OrderConfirmed",
    "OrderCancellationRequested",
    "OrderCancelled",
    "OrderShipped",
    "OrderDelivered",
    "ShipmentCreated",
    "ShipmentDispatched",
    "ShipmentDelivered",
    "ShipmentCancelled",
}


def test_every_public_contract_class_has_a_one_line_docstring_summary() -> None:
    classes = [value for value in vars(c).values() if inspect.isclass(value) and issubclass(value, BaseModel)]
    assert len(classes) > len(CONTRACTS)
    for cls in classes:
        summary = (cls.__doc__ or "").strip().split("\n\n")[0]
        assert summary, f"{cls.__name__} has no docstring"
        assert "\n" not in summary, f"{cls.__name__}: the docstring summary is not one line"


def test_aggregate_events_carry_their_version() -> None:
    for cls in CONTRACTS:
        assert ("version" in cls.model_fields) == (cls.TYPE in AGGREGATE_EVENTS), cls.TYPE


def test_messages_are_frozen(samples: dict[str, Message]) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        samples["ConfirmOrder"].order_id = None


def _book(**changes: object) -> dict[str, object]:
    return dict(c.BookAdded.model_validate({**_BOOK, **changes}).model_dump())


_BOOK = {
    "book_id": "0b8f3c1e-1111-4c2a-9a53-0c6f1a1e0001",
    "title": " Dune ",
    "author": "Frank Herbert",
    "price": {"amount": "12.99", "currency": "USD"},
    "version": 1,
}


def test_book_defaults_and_trimming() -> None:
    book = _book()
    assert book["title"] == "Dune"
    assert book["isbn"] is None
    assert book["tags"] == []
    assert book["in_print"] is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isbn", "978044101359"),
        ("isbn", "0441013597"),
        ("price", {"amount": "0", "currency": "USD"}),
        ("title", "   "),
        ("title", "t" * 201),
        ("author", "a" * 151),
        ("description", "d" * 5001),
        ("tags", ["t"] * 21),
        ("tags", ["x" * 51]),
        ("page_count", 0),
        ("page_count", 100_001),
        ("genre", "POETRY"),
        ("version", 0),
    ],
)
def test_book_rules(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        _book(**{field: value})
    assert caught.value.errors()[0]["loc"][0] == field


def test_new_price_must_be_positive() -> None:
    zero = c.Money(amount=0, currency="USD")
    with pytest.raises(ValidationError, match="price must be > 0"):
        c.BookPriceUpdated(book_id=_BOOK["book_id"], old_price=zero, new_price=zero, version=2)


def test_inventory_level_must_be_consistent() -> None:
    with pytest.raises(ValidationError, match="available must equal on_hand - reserved"):
        c.InventoryLevelChanged(book_id=_BOOK["book_id"], on_hand=5, reserved=2, available=5, version=1)


@pytest.mark.parametrize("tracking", ["TRK-123", "trk-AB12CD34EF", "TRK-ab12cd34ef", "XYZ-AB12CD34EF"])
def test_tracking_numbers_follow_the_domain_format(tracking: str) -> None:
    with pytest.raises(ValidationError, match="tracking_number"):
        c.MarkOrderShipped(order_id=_BOOK["book_id"], tracking_number=tracking)


def test_orders_need_lines_and_reservations_need_lines(samples: dict[str, Message]) -> None:
    placed = samples["OrderPlaced"].model_dump() | {"lines": []}
    with pytest.raises(ValidationError, match="lines"):
        c.OrderPlaced.model_validate(placed)
    with pytest.raises(ValidationError, match="lines"):
        c.ReserveStock(order_id=_BOOK["book_id"], lines=[])


def test_cancel_order_short_lines_default_to_empty() -> None:
    assert c.CancelOrder(order_id=_BOOK["book_id"], reason="timed out").short_lines == []


def test_supplier_payload_time_must_be_aware(samples: dict[str, Message]) -> None:
    data = samples["SupplierPayloadReceived"].model_dump() | {"received_at": datetime(2026, 1, 1)}
    with pytest.raises(ValidationError, match="received_at"):
        c.SupplierPayloadReceived.model_validate(data)
