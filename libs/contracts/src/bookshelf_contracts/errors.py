"""Exceptions raised by the contracts package (all plain Python, no I/O)."""

from __future__ import annotations


class ContractError(Exception):
    """Base class of every error raised by bookshelf_contracts."""


class CurrencyMismatch(ContractError, ValueError):
    """Money arithmetic between two different currencies."""


class InvalidEnvelope(ContractError, ValueError):
    """A record value that is not a well-formed JSON envelope."""


class UnknownMessageType(ContractError, LookupError):
    """A message type name no contract is registered for (tolerant readers ignore these)."""


class MessageValidationError(ContractError, ValueError):
    """Message data that does not match its contract; the text names each failing field.

    ``errors`` holds ``(field, message)`` pairs, ready for problem+json ``errors`` or DLQ headers.
    """

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[tuple[str, str]] = errors or []
