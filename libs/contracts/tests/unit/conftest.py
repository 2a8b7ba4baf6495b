"""One valid sample of every contract (``bookshelf_contracts.testing``), for tests that must cover them all."""

from __future__ import annotations

import bookshelf_contracts as c
import pytest
from bookshelf_contracts.testing import samples as build_samples


@pytest.fixture(scope="session")
def samples() -> dict[str, c.Message]:
    """type name -> a valid message of that type, for every registered contract."""
    return build_samples()
