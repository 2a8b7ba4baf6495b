import importlib
import pkgutil
from uuid import uuid4

import bookshelf_contracts
import pytest
from bookshelf_contracts import (
    CONTRACTS,
    BookPriceUpdated,
    CreateShipment,
    Envelope,
    Message,
    MessageValidationError,
    Money,
    UnknownMessageType,
    message_class,
    message_types,
    parse_data,
    parse_message,
)
from bookshelf_contracts.base import Command, Event
from bookshelf_contracts.registry import _collect
from bookshelf_contracts.upcasters import LEGACY_CONTRACTS, BookPriceUpdatedV1, CreateShipmentV1
from bookshelf_contracts.upcasting import UPCASTERS, Upcasters


def _envelope(type_name: str, version: int, data: dict[str, object]) -> Envelope:
    return Envelope.model_validate(
        {
            "message_id": uuid4(),
            "type": type_name,
            "version": version,
            "occurred_at": "2026-01-01T00:00:00Z",
            "correlation_id": "c-1",
            "producer": "test",
            "data": data,
        }
    )


def _message_classes_defined_in_the_package() -> set[type[Message]]:
    """Every public Message subclass any module of bookshelf_contracts defines (not the bases)."""
    modules = [
        importlib.import_module(f"bookshelf_contracts.{info.name}")
        for info in pkgutil.iter_modules(bookshelf_contracts.__path__)
    ]
    return set(_collect(*modules)) - {Message, Event, Command}


def test_every_contract_class_is_registered_or_a_legacy_version() -> None:
    """A class defined in a module the registry does not collect would be silently unknown."""
    assert _message_classes_defined_in_the_package() == set(CONTRACTS) | set(LEGACY_CONTRACTS)


def test_every_contract_has_a_sample(samples: dict[str, Message]) -> None:
    assert sorted(samples) == sorted(message_types())
    for type_name, message in samples.items():
        assert type(message) is message_class(type_name)


def test_every_contract_is_registered_once() -> None:
    assert len(message_types()) == len(CONTRACTS) == len({cls.TYPE for cls in CONTRACTS})
    assert sorted(message_types()) == sorted(cls.TYPE for cls in CONTRACTS)
    for cls in CONTRACTS:
        assert message_class(cls.TYPE) is cls
        assert cls.__name__ == cls.TYPE


def test_unknown_type_raises_lookup_error() -> None:
    with pytest.raises(UnknownMessageType, match="'BookBurned'"):
        message_class("BookBurned")
    with pytest.raises(LookupError):
        parse_message(_envelope("BookBurned", 1, {}))


def test_validation_error_names_the_field(samples: dict[str, Message]) -> None:
    data = samples["OrderPlaced"].model_dump(mode="json")
    data["customer"]["email"] = "not-an-email"
    del data["total"]
    with pytest.raises(MessageValidationError) as caught:
        parse_message(_envelope("OrderPlaced", 1, data))
    text = str(caught.value)
    assert text.startswith("invalid OrderPlaced v1: ")
    assert "customer.email: String should match pattern" in text
    assert "(got 'not-an-email')" in text
    assert "total: Field required" in text
    assert [field for field, _ in caught.value.errors] == ["customer.email", "total"]
    assert isinstance(caught.value, ValueError)


def test_nested_list_fields_are_named_with_their_index(samples: dict[str, Message]) -> None:
    data = samples["ReserveStock"].model_dump(mode="json")
    data["lines"][0]["quantity"] = 0
    with pytest.raises(MessageValidationError, match=r"lines\.0\.quantity: Input should be greater"):
        parse_data("ReserveStock", 1, data)


def test_unknown_top_level_fields_are_ignored_by_readers(samples: dict[str, Message]) -> None:
    data = samples["ShipmentFailed"].model_dump(mode="json") | {"carrier": "added later"}
    assert parse_data("ShipmentFailed", 1, data) == samples["ShipmentFailed"]


def test_producers_cannot_add_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        message_class("ReleaseStock")(order_id=uuid4(), oops=1)


def test_a_version_newer_than_the_reader_is_rejected(samples: dict[str, Message]) -> None:
    data = samples["ReleaseStock"].model_dump(mode="json")
    with pytest.raises(MessageValidationError, match="ReleaseStock v2 is newer than the v1"):
        parse_data("ReleaseStock", 2, data)


# --- upcasting -------------------------------------------------------------------------------------

V1 = {
    "book_id": "0b8f3c1e-1111-4c2a-9a53-0c6f1a1e0001",
    "old_amount": "12.99",
    "new_amount": "9.5",
    "currency": "EUR",
    "version": 4,
}


def test_book_price_updated_v1_is_upcast_to_v2() -> None:
    message = parse_message(_envelope("BookPriceUpdated", 1, dict(V1)))
    assert isinstance(message, BookPriceUpdated)
    assert message.old_price == Money(amount="12.99", currency="EUR")
    assert message.new_price == Money(amount="9.50", currency="EUR")
    assert message.version == 4
    assert str(message.book_id) == V1["book_id"]


def test_upcasting_does_not_mutate_the_envelope_data() -> None:
    envelope = _envelope("BookPriceUpdated", 1, dict(V1))
    parse_message(envelope)
    assert envelope.data == V1


def test_bad_v1_data_names_the_v1_field() -> None:
    with pytest.raises(
        MessageValidationError, match=r"invalid BookPriceUpdated v1: currency: Input should be"
    ):
        parse_data("BookPriceUpdated", 1, V1 | {"currency": "JPY"})


def test_the_v1_shape_is_documented_as_a_model() -> None:
    assert BookPriceUpdatedV1.TYPE == "BookPriceUpdated"
    assert BookPriceUpdatedV1.VERSION == 1
    assert set(BookPriceUpdatedV1.model_fields) == {
        "book_id",
        "old_amount",
        "new_amount",
        "currency",
        "version",
    }
    assert UPCASTERS.has("BookPriceUpdated", 1)


def test_current_v2_data_is_read_as_is(samples: dict[str, Message]) -> None:
    data = samples["BookPriceUpdated"].model_dump(mode="json")
    assert parse_data("BookPriceUpdated", 2, data) == samples["BookPriceUpdated"]


# CreateShipment v1 (order's Address) -> v2 (DeliveryAddress: a blank street is shipping's to refuse)
CREATE_V1 = {
    "order_id": "0b8f3c1e-2222-4c2a-9a53-0c6f1a1e0002",
    "address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345", "country": "US"},
    "lines": [{"book_id": "0b8f3c1e-1111-4c2a-9a53-0c6f1a1e0001", "quantity": 2}],
}


def test_create_shipment_v1_is_upcast_to_v2_unchanged() -> None:
    message = parse_message(_envelope("CreateShipment", 1, dict(CREATE_V1)))
    assert isinstance(message, CreateShipment)
    assert CreateShipment.VERSION == 2
    assert message.model_dump(mode="json") == CREATE_V1 | {"address": CREATE_V1["address"] | {"state": ""}}


def test_a_v1_create_shipment_with_a_blank_street_reaches_the_reader() -> None:
    # v1 data from a producer not yet upgraded is not held to the v1 rule the upcast removes.
    data = CREATE_V1 | {"address": CREATE_V1["address"] | {"street": "   "}}
    message = parse_data("CreateShipment", 1, data)
    assert isinstance(message, CreateShipment)
    assert message.address.street == ""


def test_a_v2_create_shipment_with_a_blank_street_is_valid(samples: dict[str, Message]) -> None:
    data = samples["CreateShipment"].model_dump(mode="json")
    data["address"]["street"] = " "
    message = parse_data("CreateShipment", 2, data)
    assert isinstance(message, CreateShipment)
    assert message.address.street == ""


def test_bad_create_shipment_data_still_names_the_field(samples: dict[str, Message]) -> None:
    data = samples["CreateShipment"].model_dump(mode="json")
    data["address"]["country"] = "USA"
    with pytest.raises(MessageValidationError, match=r"invalid CreateShipment v1: address\.country: String"):
        parse_data("CreateShipment", 1, data)


def test_the_create_shipment_v1_shape_is_documented_as_a_model() -> None:
    assert (CreateShipmentV1.TYPE, CreateShipmentV1.VERSION) == ("CreateShipment", 1)
    assert set(CreateShipmentV1.model_fields) == set(CreateShipment.model_fields)
    assert UPCASTERS.has("CreateShipment", 1)


def test_upcasters_chain_v1_to_v3() -> None:
    table = Upcasters()

    @table.register("Thing", from_version=1)
    def rename(data: dict[str, object]) -> dict[str, object]:
        data["name"] = data.pop("title")
        return data

    @table.register("Thing", from_version=2)
    def add_default(data: dict[str, object]) -> dict[str, object]:
        return data | {"colour": "red"}

    original = {"title": "x"}
    assert table.upcast("Thing", 1, original, to_version=3) == {"name": "x", "colour": "red"}
    assert table.upcast("Thing", 2, {"name": "y"}, to_version=3) == {"name": "y", "colour": "red"}
    assert original == {"title": "x"}


def test_a_gap_in_the_chain_is_a_clear_error() -> None:
    table = Upcasters()
    table.register("Thing", from_version=1)(lambda data: data)
    with pytest.raises(MessageValidationError, match="no upcaster from v2 to v3"):
        table.upcast("Thing", 1, {}, to_version=3)


def test_registering_two_upcasters_for_one_step_fails() -> None:
    table = Upcasters()
    table.register("Thing", from_version=1)(lambda data: data)
    with pytest.raises(ValueError, match="already registered"):
        table.register("Thing", from_version=1)(lambda data: data)
