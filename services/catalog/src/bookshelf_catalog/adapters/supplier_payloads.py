"""Supplier webhook bodies in PostgreSQL (``supplier_payloads``), deduplicated by payload id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_catalog.adapters.orm import supplier_payloads
from bookshelf_catalog.service_layer.repositories import SupplierPayloadRepository


class SqlSupplierPayloadRepository(SupplierPayloadRepository):
    """``SupplierPayloadRepository`` inside the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(
        self, payload_id: UUID, event_type: str, payload: Mapping[str, Any], received_at: datetime
    ) -> UUID | None:
        """Store a new payload (None), or return the message id of the first one with this id."""
        inserted = await self.session.execute(
            insert(supplier_payloads)
            .values(
                payload_id=payload_id, event_type=event_type, payload=dict(payload), received_at=received_at
            )
            .on_conflict_do_nothing(index_elements=["payload_id"])
            .returning(supplier_payloads.c.payload_id)
        )
        if inserted.first() is not None:
            return None
        existing = await self.session.execute(
            sa.select(supplier_payloads.c.message_id).where(supplier_payloads.c.payload_id == payload_id)
        )
        message_id: UUID = existing.scalar_one()
        return message_id

    async def set_message_id(self, payload_id: UUID, message_id: UUID) -> None:
        """Remember the id of the message that carries the payload to the supplier topic."""
        await self.session.execute(
            sa.update(supplier_payloads)
            .where(supplier_payloads.c.payload_id == payload_id)
            .values(message_id=message_id)
        )
