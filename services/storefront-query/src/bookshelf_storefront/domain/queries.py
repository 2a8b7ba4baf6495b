"""What a list request asks for: sort keys, storefront filters, and when ``total`` needs a count (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STOREFRONT_SORTS = ("title", "author", "price", "available", "updated_at")
STOREFRONT_DEFAULT_SORT = "title"
REPORT_SORTS = ("units_sold", "revenue", "price_changes", "title", "author", "updated_at")
REPORT_DEFAULT_SORT = "-units_sold"
MIN_GRAM_TERM = 3  # contains-searches of 3+ characters use the trigram index


class InvalidQuery(ValueError):
    """A query parameter that parsed but breaks a rule; ``errors`` names the field (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.errors = [(field, message)]


@dataclass(frozen=True, slots=True)
class Sort:
    """A sort key and its direction (``-key`` means descending)."""

    key: str
    descending: bool = False


def parse_sort(raw: str | None, allowed: tuple[str, ...], default: str) -> Sort:
    """``"-price"`` -> ``Sort("price", True)``; an unknown key raises ``InvalidQuery`` listing the keys."""
    text = (raw or "").strip() or default
    descending = text.startswith("-")
    key = text[1:] if descending else text.removeprefix("+")
    if key not in allowed:
        keys = ", ".join(allowed)
        raise InvalidQuery(
            "sort",
            f"unknown sort key {key!r}; allowed: {keys} (prefix '-' for descending, e.g. -{allowed[0]})",
        )
    return Sort(key, descending)


def clean_text(value: str | None) -> str | None:
    """Trimmed text, or None when absent or blank (a blank filter filters nothing)."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def like_pattern(term: str) -> str:
    """``%term%`` for LIKE with ``\\``, ``%`` and ``_`` escaped (matched literally)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def uses_grams(term: str) -> bool:
    """True when a contains-term is long enough for the trigram index."""
    return len(term) >= MIN_GRAM_TERM


@dataclass(frozen=True, slots=True)
class StorefrontFilter:
    """The filters of ``GET /storefront`` (docs/reference/http.md); None means "not filtered"."""

    author: str | None = None
    author_contains: str | None = None
    q: str | None = None
    genre: str | None = None
    in_stock: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None

    @property
    def searches(self) -> bool:
        """A contains-filter long enough for the trigram index (``q`` or ``author_contains``)."""
        return any(term is not None and uses_grams(term) for term in (self.q, self.author_contains))

    @property
    def only_visibility(self) -> bool:
        """No filter at all: every visible book."""
        return self == StorefrontFilter()

    @property
    def only_in_stock(self) -> bool:
        """Exactly ``in_stock=true`` and nothing else."""
        return self == StorefrontFilter(in_stock=True)

    def __post_init__(self) -> None:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise InvalidQuery(
                "min_price", f"min_price {self.min_price} is greater than max_price {self.max_price}"
            )


def known_total(offset: int, limit: int, returned: int) -> int | None:
    """The total when the page itself proves it (a short page is the last one), else None (count).

    Counting every match is the expensive part of a broad query at 100,000 rows; a page that is not
    full needs no count at all. An empty page past offset 0 still needs one (the offset may be past
    the end of a long list).
    """
    if 0 < returned < limit or (returned == 0 and offset == 0):
        return offset + returned
    return None
