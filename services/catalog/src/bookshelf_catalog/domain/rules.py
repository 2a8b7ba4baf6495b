"""The field rules of a Book (docs/domain.md "Catalog: Book"), each returning the clean value or raising.

``check_fields`` runs the rule of every given field and collects all failures into one
``InvalidBook``, so a rejection names every broken field at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bookshelf_contracts import Genre, Money

from bookshelf_catalog.domain.exceptions import InvalidBook
from bookshelf_catalog.domain.isbn import normalize_isbn

MAX_TITLE = 200
MAX_AUTHOR = 150
MAX_DESCRIPTION = 5000
MAX_TAGS = 20
MAX_TAG = 50
MAX_PAGES = 100_000
REQUIRED = ("title", "author", "price")


class RuleError(ValueError):
    """A broken rule inside a field; ``field`` is the precise path (``price.amount``, ``tags[2]``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _text(value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    text = value.strip()
    if not 1 <= len(text) <= max_length:
        raise ValueError(f"must have 1-{max_length} characters after trimming, got {len(text)}")
    return text


def check_title(value: Any) -> str:
    """1-200 characters, trimmed."""
    return _text(value, MAX_TITLE)


def check_author(value: Any) -> str:
    """1-150 characters, trimmed."""
    return _text(value, MAX_AUTHOR)


def check_isbn(value: Any) -> str | None:
    """Optional ISBN-10 or ISBN-13 with a valid check digit, returned as ISBN-13 digits."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    return normalize_isbn(value.strip()) if value.strip() else None


def check_price(value: Any) -> Money:
    """Money with an amount > 0."""
    if not isinstance(value, Money):
        raise ValueError(f"must be Money {{amount, currency}}, got {type(value).__name__}")
    if value.amount <= 0:
        raise RuleError("price.amount", f"must be > 0, got {value.amount}")
    return value


def check_description(value: Any) -> str | None:
    """Optional, at most 5000 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    if len(value) > MAX_DESCRIPTION:
        raise ValueError(f"must have at most {MAX_DESCRIPTION} characters, got {len(value)}")
    return value


def check_genre(value: Any) -> Genre | None:
    """Optional, one of the Genre values."""
    if value is None or isinstance(value, Genre):
        return value
    try:
        return Genre(str(value).strip().upper())
    except ValueError:
        raise ValueError(f"must be one of {', '.join(g.value for g in Genre)}, got {value!r}") from None


def check_tags(value: Any) -> list[str]:
    """At most 20 tags of 1-50 characters each (trimmed)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"must be a list of strings, got {type(value).__name__}")
    if len(value) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags, got {len(value)}")
    tags: list[str] = []
    for index, tag in enumerate(value):
        try:
            tags.append(_text(tag, MAX_TAG))
        except ValueError as exc:
            raise RuleError(f"tags[{index}]", str(exc)) from None
    return tags


def check_page_count(value: Any) -> int | None:
    """Optional integer 1-100000."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, got {type(value).__name__}")
    if not 1 <= value <= MAX_PAGES:
        raise ValueError(f"must be between 1 and {MAX_PAGES}, got {value}")
    return value


def check_publication_date(value: Any) -> date | None:
    """Optional date."""
    if value is None or isinstance(value, date):
        return value
    raise ValueError(f"must be an ISO date, got {value!r}")


def check_in_print(value: Any) -> bool:
    """A boolean."""
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


RULES: dict[str, Callable[[Any], Any]] = {
    "title": check_title,
    "author": check_author,
    "isbn": check_isbn,
    "price": check_price,
    "description": check_description,
    "genre": check_genre,
    "tags": check_tags,
    "page_count": check_page_count,
    "publication_date": check_publication_date,
    "in_print": check_in_print,
}


def check_fields(fields: Mapping[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Clean values of ``fields``; raises ``InvalidBook`` listing every failing field."""
    errors: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    for name in required:
        if fields.get(name) is None:
            errors.append((name, "is required"))
    for name, value in fields.items():
        rule = RULES.get(name)
        if rule is None:
            errors.append((name, "is not a book field"))
            continue
        if value is None and name in REQUIRED:
            if name not in required:
                errors.append((name, "must not be null"))
            continue
        try:
            clean[name] = rule(value)
        except RuleError as exc:
            errors.append((exc.field, str(exc)))
        except ValueError as exc:
            errors.append((name, str(exc)))
    if errors:
        raise InvalidBook(errors)
    return clean
