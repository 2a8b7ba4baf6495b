"""Compose files as ``docker compose`` reads them, for the subset of rules these files use: override
merging, ``${VAR}`` interpolation, and which services are one-shot jobs."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from tests.deploy.deploy_support import COMPOSE_FILE, COMPOSE_OVERRIDES, load_yaml

_CONCATENATED = {"ports", "volumes", "expose", "dns", "extra_hosts", "profiles"}


def merge_compose(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``docker compose -f base -f override``: mappings merge, these lists append, the rest replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_compose(current, value)
        elif isinstance(current, list) and isinstance(value, list) and key in _CONCATENATED:
            merged[key] = current + [item for item in value if item not in current]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def compose_variants() -> dict[str, dict[str, Any]]:
    """The base file alone and merged with each override, not interpolated."""
    base = load_yaml(COMPOSE_FILE)
    variants = {"base": base}
    for name, path in COMPOSE_OVERRIDES.items():
        variants[name] = merge_compose(base, load_yaml(path))
    return variants


_INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariable(LookupError):
    """``${VAR:?message}`` (or ``${VAR?message}``) met an unset variable."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``, ``$$``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        if name is None:
            return "$"
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":-", "-"):
            return arg if unset else str(current)
        if op in (":?", "?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(current)
        return "" if current is None else current

    return _INTERPOLATION.sub(replace, value)


def interpolated_variables(value: Any) -> Iterator[tuple[str, str | None, str]]:
    """Every ``(name, operator, argument)`` interpolated anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from interpolated_variables(key)
            yield from interpolated_variables(item)
    elif isinstance(value, list):
        for item in value:
            yield from interpolated_variables(item)
    elif isinstance(value, str):
        for match in _INTERPOLATION.finditer(value):
            if match.group("name"):
                yield match.group("name"), match.group("op"), match.group("arg") or ""


def is_one_shot(service: Mapping[str, Any]) -> bool:
    """A job (topics, databases, migrations): runs once; long-running services restart."""
    return service.get("restart") == "no"
