"""Supplier feed events, topic ``supplier.book-supply`` keyed by payload_id (the ACL's inbox)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, StringConstraints

from bookshelf_contracts.base import Event
from bookshelf_contracts.topic_names import SUPPLIER_BOOK_SUPPLY


class SupplierPayloadReceived(Event):
    """A BookSupply webhook was accepted and stored; ``payload`` is its raw JSON body."""

    TOPIC: ClassVar[str] = SUPPLIER_BOOK_SUPPLY

    payload_id: UUID
    event_type: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    payload: dict[str, Any]
    received_at: AwareDatetime
