"""The committed AsyncAPI document is a valid AsyncAPI 3.0 document and names every topic and contract."""

from __future__ import annotations

import json
from pathlib import Path

from bookshelf_contracts import TOPICS
from bookshelf_contracts.asyncapi import render_asyncapi
from bookshelf_contracts.export import SCHEMA_DIR
from bookshelf_contracts.registry import CONTRACTS
from jsonschema import Draft7Validator

SPEC = Path(__file__).parents[1] / "schemas" / "asyncapi-3.0.0.json"


def test_the_document_validates_against_the_asyncapi_3_schema() -> None:
    document = json.loads((SCHEMA_DIR / "asyncapi.json").read_text())
    errors = sorted(Draft7Validator(json.loads(SPEC.read_text())).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_every_topic_lane_and_contract_is_in_it() -> None:
    document = render_asyncapi()
    assert {s.name for s in TOPICS} | {f"{s.name}.bulk" for s in TOPICS} == set(document["channels"])
    assert {c.TYPE for c in CONTRACTS} == set(document["components"]["messages"])
    placed = document["components"]["messages"]["OrderPlaced"]
    assert placed["bindings"]["kafka"]["key"]["description"] == "order_id"
    assert document["operations"]["publish ordering.orders"]["channel"] == {
        "$ref": "#/channels/ordering.orders"
    }


def test_a_broken_document_is_refused_by_the_schema() -> None:
    broken = render_asyncapi() | {"channels": {"x": {"address": 7}}}
    assert list(Draft7Validator(json.loads(SPEC.read_text())).iter_errors(broken))
