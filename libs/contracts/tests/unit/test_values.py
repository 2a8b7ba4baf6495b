from uuid import uuid4

import pytest
from bookshelf_contracts import (
    Address,
    Currency,
    Customer,
    DeliveryAddress,
    Money,
    OrderLineData,
    ShortLine,
    StockLine,
)
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


# --- DeliveryAddress (CreateShipment v2) -----------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_delivery_address_lets_a_blank_street_through_stripped(blank: str) -> None:
    address = DeliveryAddress.model_validate({**ADDRESS, "street": blank})
    assert address.street == ""
    assert address.country == "US"


def test_delivery_address_still_requires_the_street_key() -> None:
    data = {key: value for key, value in ADDRESS.items() if key != "street"}
    with pytest.raises(ValidationError) as caught:
        DeliveryAddress.model_validate(data)
    [error] = caught.value.errors()
    assert (error["loc"], error["type"]) == (("street",), "missing")


@pytest.mark.parametrize("field", ["city", "zip_code"])
def test_delivery_address_blank_city_and_zip_count_as_missing(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DeliveryAddress.model_validate({**ADDRESS, field: "  "})
    [error] = caught.value.errors()
    assert (error["loc"], error["type"]) == ((field,), "missing")


def test_delivery_address_trims_and_defaults_like_address() -> None:
    data = {**ADDRESS, "street": " 1 Main St ", "state": " ", "country": " gb "}
    address = DeliveryAddress.model_validate(data)
    assert address.model_dump() == Address.model_validate(data).model_dump()
    assert DeliveryAddress.model_validate({**ADDRESS, "country": " "}).country == "US"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("street", "s" * 201),
        ("city", "c" * 101),
        ("state", "s" * 51),
        ("zip_code", "1" * 21),
        ("country", "USA"),
        ("planet", "Earth"),
    ],
)
def test_delivery_address_keeps_the_other_address_rules(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DeliveryAddress.model_validate({**ADDRESS, field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_delivery_address_differs_from_address_only_in_the_street_minimum() -> None:
    loose = DeliveryAddress.model_json_schema()
    strict = Address.model_json_schema()
    assert loose["properties"]["street"] == {"maxLength": 200, "title": "Street", "type": "string"}
    assert strict["properties"]["street"] == {**loose["properties"]["street"], "minLength": 1}
    for schema in (loose, strict):
        del schema["properties"]["street"], schema["title"], schema["description"]
    assert loose == strict


def test_delivery_address_accepts_an_address_instance() -> None:
    address = Address.model_validate(ADDRESS)
    assert DeliveryAddress.model_validate(address).model_dump() == address.model_dump()
    # An Address built without validation (model_construct) is validated here; its blank street passes.
    blank = Address.model_construct(**{**ADDRESS, "street": "  "})
    assert DeliveryAddress.model_validate(blank).street == ""
