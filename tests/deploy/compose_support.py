"""Compose files as ``docker compose`` reads them, for the subset of rules these files use: merging
several files, ``${VAR}`` interpolation, and which services are one-shot jobs."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tests.deploy.deploy_support import COMPOSE_COMBINATIONS, COMPOSE_FILE, COMPOSE_OVERRIDES, load_yaml

# The merge rules of the Compose Specification ("Merge and override", 13-merge.md) as compose-go
# (override/merge.go, override/uncity.go; docker compose's loader) applies them. Paths use * for any key.
_REPLACED = {
    ("services", "*", "command"),
    ("services", "*", "entrypoint"),
    ("services", "*", "healthcheck", "test"),
}
# Sequences or mappings of KEY=VALUE: merged by key, the later file wins (environment: a bare KEY too).
_BY_KEY = {("services", "*", name) for name in ("environment", "labels", "annotations", "sysctls")}
_BY_KEY |= {("services", "*", "build", "args"), ("services", "*", "deploy", "labels")}
# Short-syntax sequences turned into mappings first: depends_on (service_started), networks.
_AS_MAPPING = {("services", "*", "depends_on"): {"condition": "service_started", "required": True}}
_AS_MAPPING[("services", "*", "networks")] = None


def _volume_target(item: Any) -> Any:
    if isinstance(item, Mapping):
        return item.get("target")
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _port_key(item: Any) -> Any:
    """(host ip, target, published, protocol) of a port, long or short syntax (split from the right:
    the host part may be an uninterpolated ``${VAR:-default}``)."""
    if isinstance(item, Mapping):
        fields = ("host_ip", "target", "published")
        return (*(str(item.get(f)) for f in fields), item.get("protocol", "tcp"))
    text, _, protocol = str(item).partition("/")
    parts = text.rsplit(":", 2)
    host_ip = parts[0] if len(parts) == 3 else "None"
    published = parts[-2] if len(parts) > 1 else "None"
    return (host_ip, parts[-1], published, protocol or "tcp")


def _mount_target(item: Any) -> Any:
    return item.get("target", item.get("source")) if isinstance(item, Mapping) else item


def _itself(item: Any) -> Any:
    return item


# Sequences whose entries are unique by a key: a later entry with the same key replaces the earlier.
_UNIQUE: dict[tuple[str, ...], Callable[[Any], Any]] = {
    ("services", "*", "volumes"): _volume_target,
    ("services", "*", "ports"): _port_key,
    ("services", "*", "secrets"): _mount_target,
    ("services", "*", "configs"): _mount_target,
}
_UNIQUE |= {("services", "*", name): _itself for name in ("profiles", "expose", "dns", "cap_add", "tmpfs")}


def _matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    return len(path) == len(pattern) and all(p in ("*", part) for part, p in zip(path, pattern, strict=True))


def _rule(path: tuple[str, ...], rules: Any) -> Any:
    return next((rule for rule in rules if _matches(path, rule)), None)


def _by_key(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    pairs = (str(item).partition("=") for item in value or [])
    return {key: (val if sep else None) for key, sep, val in pairs}


def _as_mapping(value: Any, default: Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    return {item: copy.deepcopy(default) for item in value or []}


def _unique(items: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        same = [i for i, existing in enumerate(out) if key(existing) == key(item)]
        if same:
            out[same[0]] = item
        else:
            out.append(item)
    return out


def merge_compose(base: Mapping[str, Any], override: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict:
    """``docker compose -f base -f override``: the Compose Specification's merge rules (see above).

    ``!reset`` and ``!override`` tags are not implemented: PyYAML refuses unknown tags, so a file using
    them fails to load here instead of merging wrongly.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        here = (*path, key)
        merged[key] = _merge_value(merged[key], value, here) if key in merged else copy.deepcopy(value)
    return merged


def _merge_value(current: Any, value: Any, path: tuple[str, ...]) -> Any:
    if _rule(path, _REPLACED):
        return copy.deepcopy(value)
    if _rule(path, _BY_KEY):
        return {**_by_key(current), **_by_key(value)}
    if (pattern := _rule(path, _AS_MAPPING)) is not None:
        default = _AS_MAPPING[pattern]
        return merge_compose(_as_mapping(current, default), _as_mapping(value, default), path)
    if value is None:
        return current
    if isinstance(current, Mapping) and isinstance(value, Mapping):
        return merge_compose(current, value, path)
    if isinstance(current, list) and isinstance(value, list):
        appended = current + copy.deepcopy(value)
        key = _UNIQUE.get(_rule(path, _UNIQUE) or ())
        return _unique(appended, key) if key else appended
    if isinstance(current, (Mapping, list)):
        raise ValueError(f"cannot override {'.'.join(path)} ({type(current).__name__}) with {value!r}")
    return copy.deepcopy(value)


def compose_variants() -> dict[str, dict[str, Any]]:
    """Every documented combination of compose files (COMPOSE_COMBINATIONS), merged, not interpolated."""
    base = load_yaml(COMPOSE_FILE)
    variants = {}
    for name, overrides in COMPOSE_COMBINATIONS.items():
        merged = base
        for override in overrides:
            merged = merge_compose(merged, load_yaml(COMPOSE_OVERRIDES[override]))
        variants[name] = merged
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
