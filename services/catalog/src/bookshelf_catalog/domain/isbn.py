"""ISBN-10 / ISBN-13 check digits and normalisation to ISBN-13 digits."""

from __future__ import annotations

_SEPARATORS = str.maketrans("", "", "- ")


def isbn13_check_digit(first12: str) -> str:
    """The check digit of 12 ISBN-13 digits (weights 1, 3, 1, 3 ...)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _valid_isbn10(digits: str) -> bool:
    if len(digits) != 10 or not digits[:9].isdigit() or not (digits[9].isdigit() or digits[9] in "Xx"):
        return False
    total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9]))
    total += 10 if digits[9] in "Xx" else int(digits[9])
    return total % 11 == 0


def normalize_isbn(value: str) -> str:
    """ISBN-13 digits of an ISBN-10 or ISBN-13 (hyphens and spaces allowed); raises ValueError."""
    digits = value.translate(_SEPARATORS)
    if len(digits) == 13 and digits.isdigit():
        if isbn13_check_digit(digits[:12]) != digits[12]:
            raise ValueError(
                f"{value!r} has a wrong ISBN-13 check digit (expected {isbn13_check_digit(digits[:12])})"
            )
        return digits
    if len(digits) == 10:
        if not _valid_isbn10(digits):
            raise ValueError(f"{value!r} is not a valid ISBN-10 (bad check digit or characters)")
        first12 = "978" + digits[:9]
        return first12 + isbn13_check_digit(first12)
    raise ValueError(f"{value!r} is neither an ISBN-10 nor an ISBN-13 (10 or 13 digits expected)")
