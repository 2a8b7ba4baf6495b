"""Prometheus metrics of the shipping handlers (default registry, bounded labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

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
# Shipments CREATED and not dispatched: the saga's AWAITING_DISPATCH, with the order's stock reserved.
# Refreshed from the database on every scrape (bootstrap's metrics hook); alert BookshelfStockHeldAwaitingDispatch.
AWAITING_DISPATCH = Gauge(
    "bookshelf_shipping_awaiting_dispatch",
    "Shipments created and not yet dispatched (their order's stock is reserved)",
)
AWAITING_DISPATCH_OLDEST_AGE = Gauge(
    "bookshelf_shipping_awaiting_dispatch_oldest_age_seconds",
    "Age of the oldest shipment waiting for dispatch (0 when none)",
)
AWAITING_DISPATCH_OVERDUE = Gauge(
    "bookshelf_shipping_awaiting_dispatch_overdue",
    "Shipments waiting for dispatch longer than SHIPPING_AWAITING_DISPATCH_MAX_S",
)
AWAITING_DISPATCH_LIMIT = Gauge(
    "bookshelf_shipping_awaiting_dispatch_max_seconds",
    "SHIPPING_AWAITING_DISPATCH_MAX_S: how long a shipment may wait for dispatch",
)
