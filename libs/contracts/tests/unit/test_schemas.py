from pathlib import Path

from bookshelf_contracts import CONTRACTS
from bookshelf_contracts.export import SCHEMA_DIR, drift, main, render_schemas

COMMITTED = Path(__file__).resolve().parents[2] / "schemas"


def test_schema_dir_is_the_committed_folder() -> None:
    assert SCHEMA_DIR == COMMITTED


def test_committed_schemas_match_the_models() -> None:
    expected = render_schemas()
    committed = {path.name: path.read_text(encoding="utf-8") for path in COMMITTED.glob("*.json")}
    stale = sorted(committed.keys() - expected.keys())
    missing = sorted(expected.keys() - committed.keys())
    differ = sorted(name for name in expected.keys() & committed.keys() if expected[name] != committed[name])
    hint = "run: uv run python -m bookshelf_contracts.export"
    assert not stale, f"stale schema files {stale}; {hint}"
    assert not missing, f"missing schema files {missing}; {hint}"
    assert not differ, f"schemas differ from the models {differ}; {hint}"


def test_one_schema_per_contract_version_plus_envelope() -> None:
    names = set(render_schemas())
    assert {f"{cls.TYPE}.v{cls.VERSION}.json" for cls in CONTRACTS} <= names
    assert {"envelope.json", "BookPriceUpdated.v1.json", "BookPriceUpdated.v2.json"} <= names
    assert {"CreateShipment.v1.json", "CreateShipment.v2.json"} <= names


def test_money_is_a_string_in_the_serialization_schema() -> None:
    schema = render_schemas()["BookAdded.v1.json"]
    assert '"pattern": "^\\\\d+\\\\.\\\\d{2}$"' in schema
    assert schema.endswith("}\n")


def test_check_reports_drift(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    assert drift(tmp_path) == []
    assert main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "BookAdded.v1.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "envelope.json").unlink()
    (tmp_path / "Gone.v1.json").write_text("{}\n", encoding="utf-8")
    assert drift(tmp_path) == [
        "BookAdded.v1.json (differs)",
        "envelope.json (missing)",
        "Gone.v1.json (stale: no such contract)",
    ]
    assert main(["--check", "--out", str(tmp_path)]) == 1
