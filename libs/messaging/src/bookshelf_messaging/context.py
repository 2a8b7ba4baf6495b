"""Correlation and causation ids of the work in progress, as contextvars.

The HTTP middleware binds a request's correlation id; the consumer runner binds, per message, the
envelope's correlation id and the message id as causation. ``Outbox.add`` reads them, so handler
code never passes ids around. contextvars follow asyncio tasks, so concurrent partitions and
requests never see each other's ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

_correlation_id: ContextVar[str | None] = ContextVar("bookshelf_correlation_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("bookshelf_causation_id", default=None)


@dataclass(frozen=True, slots=True)
class MessageContext:
    """The ids bound to the current task: the correlation id and the id of the causing message."""

    correlation_id: str | None
    causation_id: str | None


def current() -> MessageContext:
    """The ids bound now (either may be None)."""
    return MessageContext(_correlation_id.get(), _causation_id.get())


def correlation_id() -> str | None:
    """The bound correlation id, if any."""
    return _correlation_id.get()


def causation_id() -> str | None:
    """The bound causation id, if any."""
    return _causation_id.get()


def new_correlation_id() -> str:
    """A fresh correlation id (a UUID4 string, so it doubles as a W3C trace id)."""
    return str(uuid.uuid4())


Tokens = tuple[Token[str | None], Token[str | None]]


def set_ids(correlation_id: str | None, causation_id: str | None) -> Tokens:
    """Bind both ids until ``reset_ids`` (the consumer's per-message hot path; ``bind`` elsewhere)."""
    return _correlation_id.set(correlation_id), _causation_id.set(causation_id)


def reset_ids(tokens: Tokens) -> None:
    """Restore the ids bound before ``set_ids``."""
    _causation_id.reset(tokens[1])
    _correlation_id.reset(tokens[0])


@contextmanager
def bind(correlation_id: str | None, causation_id: str | None = None) -> Iterator[MessageContext]:
    """Bind both ids for the block and restore the previous ones afterwards."""
    corr_token = _correlation_id.set(correlation_id)
    cause_token = _causation_id.set(causation_id)
    try:
        yield MessageContext(correlation_id, causation_id)
    finally:
        _causation_id.reset(cause_token)
        _correlation_id.reset(corr_token)
