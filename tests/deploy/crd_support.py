"""Custom resources (Strimzi, CloudNativePG, the Prometheus Operator) checked against the CRDs of the operator releases
docs/deploy.md names, vendored in tests/deploy/schemas (README.md there says where each comes from).

Each served version's ``openAPIV3Schema`` becomes a JSON Schema as strict as the API server with
``kubectl``'s default field validation: an unknown field fails unless the CRD preserves unknown fields
there (Strimzi's ``config`` maps). What a JSON Schema cannot check: the CRDs' CEL rules
(``x-kubernetes-validations``) and the operators' own checks at reconcile time.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.deploy.deploy_support import (
    CLOUDNATIVE_PG_RELEASE,
    PROMETHEUS_OPERATOR_RELEASE,
    STRIMZI_RELEASE,
)

SCHEMAS = Path(__file__).resolve().parent / "schemas"
# Operator release -> its vendored CRD files (tests/deploy/schemas/README.md).
CRD_RELEASES = {
    f"Strimzi {STRIMZI_RELEASE}": sorted((SCHEMAS / f"strimzi-{STRIMZI_RELEASE}").glob("*-Crd-*.yaml")),
    f"CloudNativePG {CLOUDNATIVE_PG_RELEASE}": sorted(
        (SCHEMAS / f"cloudnative-pg-{CLOUDNATIVE_PG_RELEASE}").glob("postgresql.cnpg.io_*.yaml")
    ),
    f"Prometheus Operator {PROMETHEUS_OPERATOR_RELEASE}": sorted(
        (SCHEMAS / f"prometheus-operator-{PROMETHEUS_OPERATOR_RELEASE}").glob("monitoring.coreos.com_*.yaml")
    ),
}
# Kubernetes validates metadata itself (the CRD schemas say only "object"): the fields used here.
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
        "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
}
_JUNCTORS = ("oneOf", "anyOf", "allOf")


class NoSchema(LookupError):
    """No vendored CRD serves this apiVersion and kind."""


@cache
def crd_schemas() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(apiVersion, kind) -> (release, strict JSON Schema) for every served version of every CRD."""
    out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for release, files in CRD_RELEASES.items():
        assert files, f"no CRD files for {release} in {SCHEMAS}"
        for path in files:
            crd = yaml.safe_load(path.read_text())
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    schema["properties"]["metadata"] = _METADATA
                    out[(f"{group}/{version['name']}", kind)] = (release, schema)
    return out


def strict(schema: Mapping[str, Any], *, structural: bool = True) -> dict[str, Any]:
    """A CRD (OpenAPI v3, structural) schema as a JSON Schema that rejects unknown fields.

    Only structural nodes (typed objects with ``properties``) get ``additionalProperties: false``;
    the value validations under ``oneOf``/``anyOf``/``allOf``/``not`` name a subset of the fields.
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: strict(sub, structural=structural) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            out[key] = strict(value, structural=structural)
        elif key in _JUNCTORS:
            out[key] = [strict(sub, structural=False) for sub in value]
        elif key == "not":
            out[key] = strict(value, structural=False)
        elif not key.startswith("x-kubernetes-") and key not in ("nullable", "description"):
            out[key] = copy.deepcopy(value)
    preserved = schema.get("x-kubernetes-preserve-unknown-fields")
    if structural and "properties" in schema and "additionalProperties" not in schema and not preserved:
        out["additionalProperties"] = False
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def is_custom_resource(document: Mapping[str, Any]) -> bool:
    """A resource of an API group these tests have CRDs for."""
    group = str(document.get("apiVersion", "")).split("/")[0]
    return any(api.split("/")[0] == group for api, _ in crd_schemas())


def crd_errors(document: Mapping[str, Any]) -> list[str]:
    """Where ``document`` breaks the CRD schema of its apiVersion and kind (NoSchema if none)."""
    found = crd_schemas().get((document["apiVersion"], document["kind"]))
    if found is None:
        served = sorted(api for api, kind in crd_schemas() if kind == document["kind"])
        raise NoSchema(f"{document['apiVersion']} {document['kind']}: not served (served: {served})")
    release, schema = found
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{release}: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
