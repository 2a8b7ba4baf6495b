from uuid import uuid4

import pytest
from bookshelf_contracts import Address, Currency, Customer, Money, OrderLineData, ShortLine, StockLine
from pydantic import ValidationError

ADDRESS = {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US"}


def test_address_trims_and_upper_cases_country() -> None:
    address = Address.model_validate({**ADDRESS, "street": "  1 Main St ", "country": " gb "})
    assert address.street == "1 Main St"
    assert address.country == "GB"


@pytest.mark.parametrize("field", ["street", "city", "zip_code"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_required_address_fields_count_as_missing(field: str, blank: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Address.model_validate({**ADDRESS, field: blank})
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert error["type"] == "missing"


def test_blank_optional_address_fields_take_their_defaults() -> None:
    address = Address.model_validate({**ADDRESS, "state": "  ", "country": " "})
    assert address.state == ""
    assert address.country == "US"
    assert Address(street="x", city="y", zip_code="z").country == "US"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("street", "s" * 201),
        ("city", "c" * 101),
        ("state", "s" * 51),
        ("zip_code", "1" * 21),
        ("country", "USA"),
    ],
)
def test_address_length_rules(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Address.model_validate({**ADDRESS, field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_address_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Address.model_validate({**ADDRESS, "planet": "Earth"})


@pytest.mark.parametrize("email", ["ann@example.com", "a.b+c@mail.example.co.uk"])
def test_customer_accepts_valid_emails(email: str) -> None:
    assert Customer(name="Ann", email=email).email == email


@pytest.mark.parametrize("email", ["ann", "ann@", "@example.com", "ann@example", "a n@example.com", "ann@x."])
def test_customer_rejects_invalid_emails(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        Customer(name="Ann", email=email)


def test_customer_limits() -> None:
    with pytest.raises(ValidationError, match="email"):
        Customer(name="Ann", email="a" * 250 + "@x.io")
    with pytest.raises(ValidationError, match="name"):
        Customer(name="n" * 151, email="ann@example.com")
    with pytest.raises(ValidationError, match="name"):
        Customer.model_validate({"name": "   ", "email": "ann@example.com"})


def test_stock_and_short_lines() -> None:
    book = uuid4()
    assert StockLine(book_id=book, quantity=1).quantity == 1
    with pytest.raises(ValidationError, match="quantity"):
        StockLine(book_id=book, quantity=0)
    assert ShortLine(book_id=book, requested=3, available=0).available == 0
    with pytest.raises(ValidationError, match="available"):
        ShortLine(book_id=book, requested=3, available=-1)


def test_order_line_total() -> None:
    line = OrderLineData(
        book_id=uuid4(), title="Dune", quantity=3, unit_price=Money(amount="2.50", currency=Currency.USD)
    )
    assert line.line_total == Money(amount="7.50", currency=Currency.USD)
