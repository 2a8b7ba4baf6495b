"""The registry of every contract: type name -> class, and parsing an envelope into its message.

Parsing is a tolerant reader: an unknown ``type`` raises ``UnknownMessageType`` (consumers ignore it),
older versions are upcast to the current one, and unknown top-level data fields are ignored so
optional fields can be added without breaking readers that do not know them yet. Value objects
(Money, Address ...) stay closed: changing one needs a version bump and an upcaster.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bookshelf_contracts import catalog, inventory, ordering, shipping, supplier
from bookshelf_contracts import upcasters as _upcasters  # noqa: F401  (registers the real upcasters)
from bookshelf_contracts.base import Message
from bookshelf_contracts.envelope import Envelope
from bookshelf_contracts.errors import MessageValidationError, UnknownMessageType
from bookshelf_contracts.upcasting import UPCASTERS, upcaster

__all__ = [
    "CONTRACTS",
    "message_class",
    "message_types",
    "parse_data",
    "parse_message",
    "upcaster",
]


def _collect(*modules: Any) -> tuple[type[Message], ...]:
    found: list[type[Message]] = []
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Message)
                and value.__module__ == module.__name__
                and not value.__name__.startswith("_")
            ):
                found.append(value)
    return tuple(found)


# Every current contract, in declaration order per context.
CONTRACTS: tuple[type[Message], ...] = _collect(catalog, supplier, inventory, ordering, shipping)
_BY_TYPE: dict[str, type[Message]] = {}
for _cls in CONTRACTS:
    if _cls.TYPE in _BY_TYPE:
        raise RuntimeError(f"two contracts share the type name {_cls.TYPE!r}")
    _BY_TYPE[_cls.TYPE] = _cls


def message_types() -> tuple[str, ...]:
    """Every registered type name."""
    return tuple(_BY_TYPE)


def message_class(type_name: str) -> type[Message]:
    """The contract class of ``type_name``; raises ``UnknownMessageType``."""
    try:
        return _BY_TYPE[type_name]
    except KeyError:
        raise UnknownMessageType(f"unknown message type {type_name!r}") from None


def parse_data(type_name: str, version: int, data: dict[str, Any]) -> Message:
    """Upcast ``data`` of ``type_name`` v``version`` to the current version and validate it."""
    cls = message_class(type_name)
    try:
        current = UPCASTERS.upcast(type_name, version, data, to_version=cls.VERSION)
        known = {key: value for key, value in current.items() if key in cls.model_fields}
        return cls.model_validate(known)
    except ValidationError as exc:
        raise _validation_error(type_name, version, exc) from exc


def parse_message(envelope: Envelope) -> Message:
    """The message an envelope carries, upcast to the current version and validated.

    Raises ``UnknownMessageType`` (ignore it) or ``MessageValidationError`` (send to the DLQ).
    """
    return parse_data(envelope.type, envelope.version, envelope.data)


def _validation_error(type_name: str, version: int, exc: ValidationError) -> MessageValidationError:
    errors: list[tuple[str, str]] = []
    parts: list[str] = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "(message)"
        errors.append((field, err["msg"]))
        shown = "" if err["type"] == "missing" else f" (got {repr(err['input'])[:80]})"
        parts.append(f"{field}: {err['msg']}{shown}")
    return MessageValidationError(f"invalid {type_name} v{version}: " + "; ".join(parts), errors)
