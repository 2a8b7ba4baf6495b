"""Deliverability (docs/domain.md "Shipping") and tracking numbers: pure functions, no I/O."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from bookshelf_shipping.domain.exceptions import InvalidTrackingNumber

DEFAULT_COUNTRIES = "US,CA,GB,DE,FR,NL,IE,AU"
_COUNTRY = re.compile(r"^[A-Z]{2}$")

TRACKING_PREFIX = "TRK-"
TRACKING_LENGTH = 10
TRACKING_ALPHABET = string.ascii_uppercase + string.digits
TRACKING_PATTERN = re.compile(rf"^{TRACKING_PREFIX}[A-Z0-9]{{{TRACKING_LENGTH}}}$")


@dataclass(frozen=True)
class ServedCountries:
    """The ISO 3166-1 alpha-2 countries shipping delivers to, in configured order."""

    codes: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> ServedCountries:
        """``"US, ca,GB"`` -> ``(US, CA, GB)``; raises ValueError naming a bad code or an empty list."""
        codes: list[str] = []
        for raw in text.split(","):
            code = raw.strip().upper()
            if not code:
                continue
            if not _COUNTRY.match(code):
                raise ValueError(f"SHIPPING_COUNTRIES: {raw.strip()!r} is not an ISO 3166-1 alpha-2 code")
            if code not in codes:
                codes.append(code)
        if not codes:
            raise ValueError(f"SHIPPING_COUNTRIES: no country given in {text!r}")
        return cls(tuple(codes))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self.codes

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __str__(self) -> str:
        return ", ".join(self.codes)


class Destination(Protocol):
    """What deliverability looks at: the street and the country of an address."""

    @property
    def street(self) -> str: ...

    @property
    def country(self) -> str: ...


def undeliverable_reasons(address: Destination, served: ServedCountries) -> list[str]:
    """Every deliverability rule the address breaks, each naming the value (empty: deliverable)."""
    reasons: list[str] = []
    if not address.street or not address.street.strip():
        reasons.append(f"street is blank (got {address.street!r}); a shipment needs a street")
    country = (address.country or "").strip().upper()
    if country not in served:
        reasons.append(f"country {country or '(none)'} is not served; served: {served}")
    return reasons


def new_tracking_number(choice: Callable[[Sequence[str]], str] = secrets.choice) -> str:
    """``TRK-`` plus 10 upper-case letters or digits drawn with ``secrets.choice`` (unpredictable)."""
    return TRACKING_PREFIX + "".join(choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def check_tracking_number(value: str) -> str:
    """``value`` if it is ``TRK-`` plus 10 upper-case letters or digits, else InvalidTrackingNumber."""
    if not TRACKING_PATTERN.match(value):
        raise InvalidTrackingNumber(
            f"tracking_number {value!r} is not {TRACKING_PREFIX} plus {TRACKING_LENGTH} upper-case "
            "letters or digits"
        )
    return value
