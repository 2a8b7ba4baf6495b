"""The committed OpenAPI documents match the code, and the check notices a drifted one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract import openapi_docs


def test_the_committed_documents_match_the_apps() -> None:
    assert openapi_docs.main(["--check"]) == 0


def test_a_drifted_or_missing_document_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openapi_docs, "OUT", tmp_path)
    assert openapi_docs.main([]) == 0
    assert openapi_docs.main(["--check"]) == 0
    (tmp_path / "ordering.json").write_text("{}\n")
    assert openapi_docs.main(["--check"]) == 1
    (tmp_path / "ordering.json").unlink()
    assert openapi_docs.main(["--check"]) == 1
