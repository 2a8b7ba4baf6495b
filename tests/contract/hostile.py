"""Requests that once answered 500 (found by the fuzzing), sent to every run as fixed regressions.

PostgreSQL refuses a NUL character in text and numbers beyond ``numeric``'s range; such values pass
the models, so only ``bookshelf_servicekit.data_errors`` keeps them 4xx. Generated inputs find them
only now and then; these find them every time.
"""

from __future__ import annotations

from typing import Any

from tests.contract.harness import STAFF

Probe = tuple[str, str, dict[str, Any]]
NUL = "a\x00b"
BOOK = {"title": "Dune", "author": "Frank Herbert", "price": {"amount": "9.99", "currency": "USD"}}

HOSTILE: dict[str, list[Probe]] = {
    "catalog": [
        ("POST", "/books", {"json": {**BOOK, "title": NUL}, "headers": STAFF}),
        ("POST", "/books", {"json": {**BOOK, "tags": [NUL]}, "headers": STAFF}),
        ("POST", "/books", {"json": {**BOOK, "description": NUL}, "headers": STAFF}),
        ("POST", "/books/import", {"json": [{**BOOK, "author": NUL}], "headers": STAFF}),
    ],
    "ordering": [
        ("GET", "/orders", {"params": {"customer_email": NUL}}),
        ("GET", "/orders", {"params": {"offset": str(2**63)}}),
    ],
    "inventory": [("GET", "/inventory", {"params": {"offset": str(2**63)}})],
    "shipping": [("GET", "/shipments", {"params": {"offset": str(2**63)}})],
    "storefront-query": [
        ("GET", "/storefront", {"params": {"q": NUL}}),
        ("GET", "/storefront", {"params": {"author": NUL}}),
        ("GET", "/storefront", {"params": {"author_contains": NUL}}),
        ("GET", "/storefront", {"params": {"min_price": "1e400"}}),
        ("GET", "/storefront", {"params": {"min_price": "3.7285651371303864e+16"}}),  # found by fuzzing
        ("GET", "/storefront", {"params": {"max_price": "-0", "min_price": "1e-400"}}),
    ],
    "observatory": [
        ("GET", "/api/trace/a%00b", {}),
        ("GET", "/api/dead-letters/a%00b", {}),
        ("GET", "/api/dead-letters", {"params": {"topic": NUL}}),
        ("POST", "/api/dead-letter-topics/a%00b/purge", {"headers": STAFF}),
    ],
}
