from decimal import Decimal

import pytest
from bookshelf_contracts import Currency, CurrencyMismatch, Money
from pydantic import ValidationError


def test_amount_is_a_decimal_normalised_to_cents() -> None:
    assert Money(amount=Decimal("12.9"), currency=Currency.USD).amount == Decimal("12.90")
    assert Money(amount="10", currency="EUR").amount == Decimal("10.00")


@pytest.mark.parametrize("raw", ['"12.99"', "12.99"])
def test_json_accepts_strings_and_numbers(raw: str) -> None:
    money = Money.model_validate_json(f'{{"amount": {raw}, "currency": "USD"}}')
    assert money.amount == Decimal("12.99")
    assert isinstance(money.amount, Decimal)


def test_wire_format_is_a_string_with_two_places() -> None:
    money = Money(amount=Decimal("12"), currency=Currency.GBP)
    assert money.model_dump_json() == '{"amount":"12.00","currency":"GBP"}'
    assert money.model_dump(mode="json") == {"amount": "12.00", "currency": "GBP"}
    assert money.model_dump()["amount"] == Decimal("12.00")  # python mode keeps the Decimal


def test_large_amount_is_not_written_in_exponent_form() -> None:
    assert (
        Money(amount=Decimal("1E+5"), currency=Currency.USD).model_dump(mode="json")["amount"] == "100000.00"
    )


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("-0.01", "greater than or equal to 0"),
        ("12.999", "2 decimal places"),
        ("NaN", "finite number"),
        ("Infinity", "finite number"),
        ("twelve", "valid decimal"),
    ],
)
def test_bad_amounts_are_rejected(amount: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        Money(amount=amount, currency=Currency.USD)


def test_unknown_currency_is_rejected() -> None:
    with pytest.raises(ValidationError, match="currency"):
        Money(amount=Decimal(1), currency="JPY")


def test_money_is_frozen() -> None:
    money = Money(amount=Decimal(1), currency=Currency.USD)
    with pytest.raises(ValidationError):
        money.amount = Decimal(2)


def test_add_and_multiply_in_one_currency() -> None:
    price = Money(amount=Decimal("12.99"), currency=Currency.EUR)
    assert price + price == Money(amount=Decimal("25.98"), currency=Currency.EUR)
    assert price * 3 == 3 * price == Money(amount=Decimal("38.97"), currency=Currency.EUR)
    assert sum([price, price], Money.zero("EUR")) == price * 2
    assert str(price) == "12.99 EUR"


def test_arithmetic_across_currencies_raises_a_clear_error() -> None:
    with pytest.raises(CurrencyMismatch, match="cannot add Money in USD and EUR"):
        _ = Money(amount=Decimal(1), currency=Currency.USD) + Money(amount=Decimal(1), currency=Currency.EUR)


@pytest.mark.parametrize("factor", [1.5, Decimal("2"), True, "2"])
def test_multiply_only_by_int(factor: object) -> None:
    with pytest.raises(TypeError):
        _ = Money(amount=Decimal(1), currency=Currency.USD) * factor


def test_multiply_by_negative_int_is_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        _ = Money(amount=Decimal(1), currency=Currency.USD) * -1


def test_adding_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Money(amount=Decimal(1), currency=Currency.USD) + 1
