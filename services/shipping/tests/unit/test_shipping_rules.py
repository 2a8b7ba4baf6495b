"""Deliverability rules, served countries and tracking numbers (docs/domain.md "Shipping")."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from bookshelf_shipping.domain.exceptions import InvalidTrackingNumber
from bookshelf_shipping.domain.rules import (
    DEFAULT_COUNTRIES,
    TRACKING_ALPHABET,
    ServedCountries,
    check_tracking_number,
    new_tracking_number,
    undeliverable_reasons,
)

SERVED = ServedCountries.parse(DEFAULT_COUNTRIES)


@dataclass(frozen=True)
class Dest:
    street: str
    country: str


def test_default_countries_are_those_of_domain_md() -> None:
    assert SERVED.codes == ("US", "CA", "GB", "DE", "FR", "NL", "IE", "AU")


def test_countries_are_trimmed_upper_cased_and_deduplicated() -> None:
    assert ServedCountries.parse(" us, ca ,,US,gb ").codes == ("US", "CA", "GB")


@pytest.mark.parametrize("text", ["USA", "U1", "US,X", "US;CA"])
def test_a_bad_country_code_is_named(text: str) -> None:
    with pytest.raises(ValueError, match=r"SHIPPING_COUNTRIES: .* is not an ISO 3166-1 alpha-2 code"):
        ServedCountries.parse(text)


def test_no_country_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="no country given"):
        ServedCountries.parse(" , ")


@pytest.mark.parametrize("country", ["US", "CA", "GB", "DE", "FR", "NL", "IE", "AU", "us"])
def test_every_served_country_is_deliverable(country: str) -> None:
    assert undeliverable_reasons(Dest("1 Main St", country), SERVED) == []


def test_an_unserved_country_names_itself_and_the_served_ones() -> None:
    assert undeliverable_reasons(Dest("1 Main St", "AQ"), SERVED) == [
        "country AQ is not served; served: US, CA, GB, DE, FR, NL, IE, AU"
    ]


def test_served_countries_come_from_the_setting() -> None:
    only_ie = ServedCountries.parse("IE")
    assert undeliverable_reasons(Dest("1 Main St", "US"), only_ie) == ["country US is not served; served: IE"]
    assert undeliverable_reasons(Dest("1 Main St", "IE"), only_ie) == []


@pytest.mark.parametrize("street", ["", " ", "\t\n "])
def test_a_blank_street_is_undeliverable(street: str) -> None:
    reasons = undeliverable_reasons(Dest(street, "US"), SERVED)
    assert len(reasons) == 1
    assert reasons[0].startswith("street is blank")


def test_every_broken_rule_is_reported() -> None:
    reasons = undeliverable_reasons(Dest(" ", "AQ"), SERVED)
    assert [r.split(" ")[0] for r in reasons] == ["street", "country"]


def test_tracking_numbers_are_trk_plus_10_upper_case_letters_or_digits() -> None:
    numbers = {new_tracking_number() for _ in range(2000)}
    assert all(re.fullmatch(r"TRK-[A-Z0-9]{10}", n) for n in numbers)
    assert len(numbers) == 2000  # 36^10 possibilities: a repeat here would mean a broken generator
    assert set("".join(n[4:] for n in numbers)) == set(TRACKING_ALPHABET)


def test_tracking_numbers_draw_each_character_with_the_given_choice() -> None:
    calls: list[str] = []

    def choice(alphabet: str) -> str:
        calls.append(alphabet)
        return "Z"

    assert new_tracking_number(choice) == "TRK-ZZZZZZZZZZ"
    assert calls == [TRACKING_ALPHABET] * 10


@pytest.mark.parametrize(
    "value",
    ["TRK-ABC", "trk-ABCDEFGHIJ", "TRK-abcdefghij", "TRK-ABCDEFGHIJK", "XYZ-ABCDEFGHIJ", "TRK-ABCDE-GHIJ"],
)
def test_malformed_tracking_numbers_are_rejected(value: str) -> None:
    with pytest.raises(InvalidTrackingNumber, match="tracking_number"):
        check_tracking_number(value)


def test_a_well_formed_tracking_number_passes() -> None:
    assert check_tracking_number("TRK-0A1B2C3D4E") == "TRK-0A1B2C3D4E"
