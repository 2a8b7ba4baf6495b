"""Import body parsing and webhook signatures (pure functions of the entrypoints)."""

from __future__ import annotations

import pytest
from bookshelf_catalog.entrypoints.imports import parse_csv, parse_json
from bookshelf_catalog.entrypoints.webhooks import sign, verify_signature
from bookshelf_servicekit.auth import Unauthorized
from bookshelf_servicekit.errors import InvalidInput

SECRET = "s3cret"


def test_csv_rows_with_bom_and_optional_columns() -> None:
    rows = parse_csv("\ufefftitle,author,price\nDune,Herbert,9.99\n\nSolaris,Lem,5\n".encode())
    assert rows == [
        {"title": "Dune", "author": "Herbert", "price": "9.99"},
        {"title": "Solaris", "author": "Lem", "price": "5"},
    ]


def test_csv_header_problems_are_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_csv(b"title,writer,price\n")
    assert ("header", "missing column 'author'") in caught.value.errors
    assert ("header", "unknown column 'writer'") in caught.value.errors


def test_csv_extra_values_are_kept_for_row_errors() -> None:
    [row] = parse_csv(b"title,author,isbn,price,currency\nA,B,,1,USD,surplus\n")
    assert row["__extra_columns__"] == ["surplus"]


@pytest.mark.parametrize("body", [b"{", b'{"title": "x"}', b"\xff"])
def test_json_must_be_an_array(body: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_json(body)


def test_valid_signature_passes() -> None:
    body = b'{"a":1}'
    verify_signature(SECRET, "1000", sign(SECRET, "1000", body), body, now=1200, tolerance_s=300)


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "reason"),
    [
        (None, "sha256=00", 1000, "send"),
        ("1000", None, 1000, "send"),
        ("soon", "sha256=00", 1000, "unix seconds"),
        ("9" * 400, "sha256=00", 1000, "unix seconds"),  # no float overflow (was a 500)
        ("1_000", "sha256=00", 1000, "unix seconds"),
        ("\u0661\u0660\u0660\u0660", "sha256=00", 1000, "unix seconds"),  # Arabic-Indic digits
        ("-1000", "sha256=00", 1000, "unix seconds"),
        ("1000", "SIGNED", 1301, "300 s"),
        ("1000", "SIGNED", 699, "300 s"),
        ("1000", "sha256=deadbeef", 1000, "does not match"),
        ("1001", "SIGNED", 1000, "does not match"),
    ],
)
def test_bad_signatures_are_unauthorized(
    timestamp: str | None, signature: str | None, now: int, reason: str
) -> None:
    body = b'{"a":1}'
    if signature == "SIGNED":
        signature = sign(SECRET, "1000", body)
    with pytest.raises(Unauthorized, match=reason):
        verify_signature(SECRET, timestamp, signature, body, now=now, tolerance_s=300)
