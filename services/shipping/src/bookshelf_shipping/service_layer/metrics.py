"""Prometheus metrics of the shipping handlers (default registry, bounded labels)."""

from __future__ import annotations

from prometheus_client import Counter

COMMANDS = Counter(
    "bookshelf_shipping_commands_total",
    "Shipping commands handled, by command and outcome",
    ["command", "outcome"],
)
CANCEL_REFUSED = Counter(
    "bookshelf_shipping_cancel_refused_total",
    "CancelShipment commands acknowledged without effect because the shipment already left (by status)",
    ["status"],
)
TRACKING_COLLISIONS = Counter(
    "bookshelf_shipping_tracking_number_collisions_total",
    "Tracking numbers drawn that were already taken (a new one is drawn)",
)
