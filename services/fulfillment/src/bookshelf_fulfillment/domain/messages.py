"""What the saga consumes and produces: incoming messages, the internal deadline message, commands.

Every command gets a deterministic ``message_id`` derived from the message that caused it (for a
timeout: from the order and its deadline), so a step that runs again (its transaction rolled back, the
timer's step on another worker) writes the same ids, and a relay's re-publish carries the same id:
the receivers' inbox drops the copies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from bookshelf_contracts import Command, Message
from pydantic import AwareDatetime

# Fixed namespace of every id the saga derives (uuid5): never change it, or ids stop matching.
SAGA_NAMESPACE = UUID("6f1d3c3e-2a4b-5c8d-9e0f-b0a5c1f4e7d2")


class DeadlinePassed(Message):
    """Internal: an instance's deadline passed (made by the worker's timer; never on the wire)."""

    order_id: UUID
    deadline: AwareDatetime
    state: str


def command_id(causation_id: str, command_type: str, order_id: UUID) -> UUID:
    """The id of the command ``command_type`` caused by message ``causation_id`` for ``order_id``."""
    return uuid.uuid5(SAGA_NAMESPACE, f"command/{causation_id}/{command_type}/{order_id}")


def deadline_message_id(order_id: UUID, deadline: datetime) -> UUID:
    """One id per (order, deadline): the cause of the timeout's commands, so their ids are deterministic."""
    return uuid.uuid5(SAGA_NAMESPACE, f"deadline/{order_id}/{deadline.isoformat()}")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A parsed message as the saga sees it: the contract plus the envelope ids it needs."""

    message_id: str
    correlation_id: str
    message: Message

    @property
    def type(self) -> str:
        """The wire type name (``StockReserved``)."""
        return self.message.TYPE

    @property
    def order_id(self) -> UUID | None:
        """The order the message is about (every saga input carries one)."""
        value = getattr(self.message, "order_id", None)
        return value if isinstance(value, UUID) else None


@dataclass(frozen=True, slots=True)
class OutgoingCommand:
    """A command to produce, with its deterministic id and the ids it inherits from its cause."""

    command: Command
    message_id: UUID
    correlation_id: str
    causation_id: str

    @property
    def type(self) -> str:
        """The wire type name (``ReserveStock``)."""
        return self.command.TYPE
