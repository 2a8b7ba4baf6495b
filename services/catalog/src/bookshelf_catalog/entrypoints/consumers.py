"""The supplier feed consumer (group ``catalog.supplier-feed``, topic ``supplier.book-supply``).

Each SupplierPayloadReceived runs in a unit of work joined to the runner's transaction (``bootstrap``
passes the factory) and is translated by the anti-corruption layer; a payload the catalog
cannot use (missing keys, bad values) raises PermanentError naming the field, so the runner
dead-letters it to ``supplier.book-supply.dlq`` at once instead of retrying.
"""

from __future__ import annotations

from typing import Any

import structlog
from bookshelf_contracts import SUPPLIER_BOOK_SUPPLY, SupplierPayloadReceived
from bookshelf_messaging import Consumer, PermanentError
from bookshelf_messaging.handlers import UnitOfWorkHandler
from prometheus_client import Counter

from bookshelf_catalog.domain.exceptions import InvalidBook
from bookshelf_catalog.service_layer.messagebus import MessageBus
from bookshelf_catalog.service_layer.supplier import (
    STOCK_REPLENISHED,
    SupplierPayloadInvalid,
    event_type_of,
    invalid_from_domain,
    translate,
)
from bookshelf_catalog.service_layer.unit_of_work import UnitOfWork

SUPPLIER_FEED_GROUP = "catalog.supplier-feed"
MAX_LABEL = 50

log = structlog.get_logger("bookshelf.catalog.supplier_feed")

SUPPLIER_PAYLOADS = Counter(
    "catalog_supplier_payloads_total",
    "Supplier payloads handled by the catalog, by event type and outcome",
    ["event_type", "outcome"],
)
SUPPLIER_IGNORED = Counter(
    "catalog_supplier_payloads_ignored_total",
    "Supplier payloads with an event type nobody translates (acknowledged and ignored)",
    ["event_type"],
)


def _label(event_type: str) -> str:
    # The supplier chooses event types; cap label values so a buggy feed cannot explode cardinality.
    return event_type if len(event_type) <= MAX_LABEL else event_type[:MAX_LABEL]


def supplier_payload_handler(bus: MessageBus) -> UnitOfWorkHandler:
    """The handler of SupplierPayloadReceived, in a unit of work joined to the runner's transaction."""

    async def on_supplier_payload(message: SupplierPayloadReceived, uow: UnitOfWork) -> None:
        """Translate one stored supplier payload into catalog commands."""
        label = _label(event_type_of(message.payload))
        try:
            command = translate(message.payload)
        except SupplierPayloadInvalid as exc:
            SUPPLIER_PAYLOADS.labels(label, "rejected").inc()
            raise PermanentError(str(exc)) from exc
        if command is None:
            outcome = "not_for_catalog" if label == STOCK_REPLENISHED else "ignored"
            if outcome == "ignored":
                SUPPLIER_IGNORED.labels(label).inc()
                log.info("supplier payload ignored", event_type=label, payload_id=str(message.payload_id))
            SUPPLIER_PAYLOADS.labels(label, outcome).inc()
            return
        try:
            book = await bus.handle_in(command, uow)
        except InvalidBook as exc:
            SUPPLIER_PAYLOADS.labels(label, "rejected").inc()
            raise PermanentError(str(invalid_from_domain(exc))) from exc
        SUPPLIER_PAYLOADS.labels(label, "added" if book is not None else "known_isbn").inc()

    return on_supplier_payload


def consumers(bus: MessageBus, **options: Any) -> list[Consumer]:
    """The supplier feed (``supplier.book-supply``), for group ``catalog.supplier-feed``."""
    return [
        Consumer(
            SUPPLIER_FEED_GROUP,
            [SUPPLIER_BOOK_SUPPLY],
            {SupplierPayloadReceived: supplier_payload_handler(bus)},
            options=options,
        )
    ]
