"""Consumer wiring: errors retrying cannot fix become PermanentError; the rest are left to retries."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from bookshelf_contracts import SUPPLIER_BOOK_SUPPLY
from bookshelf_inventory.config import InventorySettings
from bookshelf_inventory.domain.exceptions import CannotCommit
from bookshelf_inventory.domain.supplier import InvalidSupplierPayload
from bookshelf_inventory.entrypoints.consumers import PERMANENT, consumers
from bookshelf_inventory.service_layer.handlers import UnknownIsbn
from bookshelf_messaging import Outbox, PermanentError, dlq_topic_for
from bookshelf_messaging.admin import topic_plan
from bookshelf_messaging.handlers import in_unit_of_work


def _raising(error: Exception) -> Any:
    async def handler(message: Any, uow: Any) -> None:
        raise error

    return handler


@pytest.mark.parametrize(
    "error",
    [InvalidSupplierPayload("payload.quantity is missing"), CannotCommit(uuid.uuid4(), "RELEASED")],
)
async def test_message_errors_are_permanent_and_keep_their_reason(error: Exception) -> None:
    handle = in_unit_of_work(_raising(error), lambda session: None, PERMANENT)
    with pytest.raises(PermanentError) as raised:
        await handle(None, None, None)  # type: ignore[arg-type]
    assert str(raised.value) == f"{type(error).__name__}: {error}"
    assert raised.value.__cause__ is error


async def test_an_unknown_book_is_left_to_the_retries() -> None:
    handle = in_unit_of_work(_raising(UnknownIsbn("9780306406157")), lambda session: None, PERMANENT)
    with pytest.raises(UnknownIsbn):
        await handle(None, None, None)  # type: ignore[arg-type]


def test_the_supplier_feed_dead_letters_into_supplier_book_supply_dlq() -> None:
    """The integration tests use twin topics; in production the ACL consumer reads the real feed."""
    declared = consumers(InventorySettings(), Outbox("inventory"))
    supplier = next(c for c in declared if c.group == "inventory.supplier-feed")
    assert supplier.topics == [SUPPLIER_BOOK_SUPPLY]
    assert dlq_topic_for(SUPPLIER_BOOK_SUPPLY) == "supplier.book-supply.dlq"
    # The topic job creates it, compacted, like every DLQ.
    assert ("supplier.book-supply.dlq", 6, True) in topic_plan()
