"""Upcasters: functions that turn the data of version N of a message type into version N+1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bookshelf_contracts.errors import MessageValidationError

Data = dict[str, Any]
UpcastFn = Callable[[Data], Data]


class Upcasters:
    """A table of upcasters keyed by (type name, from_version); chains v1 -> v2 -> v3 ..."""

    def __init__(self) -> None:
        self._table: dict[tuple[str, int], UpcastFn] = {}

    def register(self, type_name: str, *, from_version: int) -> Callable[[UpcastFn], UpcastFn]:
        """Decorator: register ``fn(data) -> data`` turning ``from_version`` data into the next version."""
        if from_version < 1:
            raise ValueError(f"from_version must be >= 1, got {from_version}")

        def decorate(fn: UpcastFn) -> UpcastFn:
            key = (type_name, from_version)
            if key in self._table and self._table[key] is not fn:
                raise ValueError(f"an upcaster for {type_name} v{from_version} is already registered")
            self._table[key] = fn
            return fn

        return decorate

    def has(self, type_name: str, from_version: int) -> bool:
        """Whether an upcaster from ``from_version`` to the next version of ``type_name`` exists."""
        return (type_name, from_version) in self._table

    def upcast(self, type_name: str, version: int, data: Data, *, to_version: int) -> Data:
        """Apply the upcasters from ``version`` up to ``to_version``; ``data`` itself is never mutated."""
        if version > to_version:
            raise MessageValidationError(
                f"{type_name} v{version} is newer than the v{to_version} this reader knows: "
                "upgrade bookshelf-contracts in this service (the record can be replayed from the DLQ)"
            )
        while version < to_version:
            fn = self._table.get((type_name, version))
            if fn is None:
                raise MessageValidationError(
                    f"{type_name} v{version} cannot be read: no upcaster from v{version} to v{version + 1}"
                )
            data = fn(dict(data))
            version += 1
        return data


# The process-wide table used by parse_message; real upcasters live in bookshelf_contracts.upcasters.
UPCASTERS = Upcasters()
upcaster = UPCASTERS.register
