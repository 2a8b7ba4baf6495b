"""Turning raw import rows (CSV strings or JSON objects) into book fields.

A CSV row has the columns ``title,author,isbn,price,currency`` (strings; empty means missing). A JSON
row is a book as POST /books takes it (``price`` an object ``{amount, currency}``), or the flat CSV
shape (``price`` a number or string and an optional ``currency``, default USD).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from bookshelf_contracts import Currency, Money

from bookshelf_catalog.domain.exceptions import InvalidBook
from bookshelf_catalog.domain.rules import REQUIRED, check_fields

DEFAULT_CURRENCY = Currency.USD
EXTRA_COLUMNS = "__extra_columns__"  # where the CSV reader puts values beyond the header
MAX_AMOUNT = Decimal(10) ** 12
_CENT = Decimal("0.01")
BOOK_FIELDS = (
    "title",
    "author",
    "isbn",
    "description",
    "genre",
    "tags",
    "page_count",
    "publication_date",
    "in_print",
)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class InvalidMoney(ValueError):
    """An unusable price or currency; ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_money(price: Any, currency: Any) -> Money:
    """Money from a number/string amount (or an ``{amount, currency}`` object) and a currency."""
    if isinstance(price, Mapping):
        currency, price = price.get("currency", currency), price.get("amount")
    if _blank(price) or isinstance(price, bool) or not isinstance(price, int | float | str | Decimal):
        raise InvalidMoney("price", f"must be a number like 12.99, got {price!r}")
    code = DEFAULT_CURRENCY.value if _blank(currency) else str(currency).strip().upper()
    return _money(str(price).strip(), code)


@lru_cache(maxsize=4096)
def _money(text: str, code: str) -> Money:
    # Imports repeat prices a lot; Money is immutable, so equal inputs share one instance.
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidMoney("price", f"must be a number like 12.99, got {text!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidMoney("price", f"amount must be > 0, got {text!r}")
    if amount >= MAX_AMOUNT:
        raise InvalidMoney("price", f"amount must be below {MAX_AMOUNT}, got {text!r}")
    if amount != amount.quantize(_CENT):
        raise InvalidMoney("price", f"amount has more than 2 decimal places: {text!r}")
    if code not in Currency.__members__:
        raise InvalidMoney("currency", f"must be one of {', '.join(Currency.__members__)}, got {code!r}")
    return Money.model_construct(amount=amount.quantize(_CENT), currency=Currency(code))


def record_fields(record: Any) -> dict[str, Any]:
    """Book fields of one raw row; raises InvalidBook naming every unusable field."""
    if not isinstance(record, Mapping):
        raise InvalidBook([("row", f"must be a JSON object, got {type(record).__name__}")])
    errors: list[tuple[str, str]] = []
    if record.get(EXTRA_COLUMNS):
        errors.append(("row", f"has {len(record[EXTRA_COLUMNS])} more value(s) than the header has columns"))
    fields: dict[str, Any] = {}
    for name in BOOK_FIELDS:
        value = record.get(name)
        if not _blank(value):
            fields[name] = value.strip() if isinstance(value, str) and name != "description" else value
    try:
        fields["price"] = (
            None if _blank(record.get("price")) else parse_money(record["price"], record.get("currency"))
        )
    except InvalidMoney as exc:
        errors.append((exc.field, str(exc)))
    if isinstance(fields.get("publication_date"), str):
        try:
            fields["publication_date"] = date.fromisoformat(fields["publication_date"])
        except ValueError:
            errors.append(("publication_date", f"must be an ISO date, got {fields['publication_date']!r}"))
    unknown = sorted(str(k) for k in set(record) - {*BOOK_FIELDS, "price", "currency", EXTRA_COLUMNS})
    errors.extend((name, "is not a book field") for name in unknown)
    if errors:
        # Report the domain's verdict on the other fields too, so one answer names every problem.
        failed = {field.split(".")[0] for field, _ in errors}
        others = {k: v for k, v in fields.items() if k not in failed and v is not None}
        try:
            check_fields(others, required=tuple(r for r in REQUIRED if r not in failed))
        except InvalidBook as exc:
            errors.extend(exc.errors)
        raise InvalidBook(errors)
    return fields
