"""Commands that come in over HTTP (the saga's commands are the contracts CreateShipment and
CancelShipment)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class DispatchShipment:
    """Staff: the shipment left the warehouse (CREATED -> DISPATCHED)."""

    shipment_id: UUID


@dataclass(frozen=True)
class DeliverShipment:
    """Staff: the shipment reached its address (DISPATCHED -> DELIVERED)."""

    shipment_id: UUID
