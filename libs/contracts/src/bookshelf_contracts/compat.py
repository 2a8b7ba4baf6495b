"""Schema evolution rule: a published message schema may only gain optional fields.

``problems(old, new)`` compares two JSON Schemas of one message version (``<Type>.v<N>.json``) and
names every change that could break a reader or a writer of the old version: a field removed, a field
that became required (a new required field included), or a field whose type changed. Descriptions,
titles, examples and defaults may change freely. A breaking change needs a new version of the
message, with an upcaster (docs/reference/kafka.md, "Contracts and versions").
"""

from __future__ import annotations

from typing import Any

FREE = {"description", "title", "examples", "default"}


def _shape(schema: Any) -> Any:
    """The schema without the keys that may change freely, recursively."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in FREE}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def problems(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """Every incompatible change from ``old`` to ``new`` (empty: only optional fields were added)."""
    found: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name in sorted(old_props.keys() - new_props.keys()):
        found.append(f"{where}{name}: removed")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        found.append(f"{where}{name}: now required")
    for name in sorted(old_props.keys() & new_props.keys()):
        if _shape(old_props[name]) != _shape(new_props[name]):
            found.append(f"{where}{name}: type changed")
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    for name in sorted(old_defs.keys() & new_defs.keys()):
        found += problems(old_defs[name], new_defs[name], f"{where}$defs.{name}.")
    for name in sorted(old_defs.keys() - new_defs.keys()):
        found.append(f"{where}$defs.{name}: removed")
    return found
