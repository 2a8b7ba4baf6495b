import pytest
from bookshelf_contracts import (
    CATALOG_BOOKS,
    CONTRACTS,
    INVENTORY_STOCK,
    SAGA_INPUT_TOPICS,
    SUPPLIER_BOOK_SUPPLY,
    TOPICS,
    BookAdded,
    Command,
    Message,
    UnknownMessageType,
    all_topic_names,
    bulk,
    dlq,
    key_for,
    primary,
    topic_for,
    topic_spec,
)

API_MD_TOPICS = {
    "catalog.books": "book_id",
    "inventory.stock": "book_id",
    "inventory.reservations": "order_id",
    "ordering.orders": "order_id",
    "shipping.shipments": "order_id",
    "inventory.commands": "order_id",
    "ordering.commands": "order_id",
    "shipping.commands": "order_id",
    "supplier.book-supply": "payload_id",
}


def test_topics_and_keys_match_api_md() -> None:
    assert {spec.name: spec.key_field for spec in TOPICS} == API_MD_TOPICS
    assert CATALOG_BOOKS == "catalog.books"
    assert SUPPLIER_BOOK_SUPPLY == "supplier.book-supply"


def test_every_type_maps_to_exactly_one_topic() -> None:
    carried = [type_name for spec in TOPICS for type_name in spec.types]
    assert len(carried) == len(set(carried)), "a type is listed on two topics"
    assert set(carried) == {cls.TYPE for cls in CONTRACTS}


def test_each_contract_names_its_own_topic_and_that_topic_carries_it() -> None:
    names = {spec.name for spec in TOPICS}
    for cls in CONTRACTS:
        assert "TOPIC" in cls.__dict__, f"{cls.TYPE} inherits its topic instead of naming it"
        assert cls.TOPIC in names, cls.TYPE
        assert cls.TYPE in topic_spec(cls.TOPIC).types
        assert topic_for(cls) == cls.TOPIC


def test_commands_travel_on_command_topics() -> None:
    for cls in CONTRACTS:
        is_command_topic = topic_for(cls).endswith(".commands")
        assert is_command_topic == issubclass(cls, Command), cls.TYPE


def test_topic_for_accepts_messages_classes_and_names(samples: dict[str, Message]) -> None:
    assert topic_for(samples["BookAdded"]) == topic_for(BookAdded) == topic_for("BookAdded") == CATALOG_BOOKS
    assert topic_for("InventoryLevelChanged") == INVENTORY_STOCK
    with pytest.raises(UnknownMessageType):
        topic_for("Nope")


def test_key_for_every_type(samples: dict[str, Message]) -> None:
    assert set(samples) == {cls.TYPE for cls in CONTRACTS}
    for type_name, message in samples.items():
        spec = topic_spec(topic_for(message))
        key = key_for(message)
        assert key == str(getattr(message, spec.key_field)), type_name
        assert len(key) == 36, (type_name, key)  # every key is a UUID string


def test_saga_input_topics_are_co_partitioned() -> None:
    assert set(SAGA_INPUT_TOPICS) == {"ordering.orders", "inventory.reservations", "shipping.shipments"}
    specs = [topic_spec(name) for name in SAGA_INPUT_TOPICS]
    assert {spec.partitions for spec in specs} == {specs[0].partitions}
    assert {spec.key_field for spec in specs} == {"order_id"}


def test_lanes_and_dead_letters() -> None:
    names = all_topic_names()
    assert len(names) == len(set(names)) == 3 * len(TOPICS)
    for spec in TOPICS:
        assert {spec.name, bulk(spec.name), dlq(spec.name)} <= set(names)
    assert bulk(CATALOG_BOOKS) == "catalog.books.bulk"
    assert dlq(INVENTORY_STOCK) == "inventory.stock.dlq"
    assert (
        primary("catalog.books.bulk")
        == primary("catalog.books.dlq")
        == primary(CATALOG_BOOKS)
        == CATALOG_BOOKS
    )
    assert topic_spec("inventory.stock.bulk").key_field == "book_id"
    with pytest.raises(LookupError, match="unknown topic"):
        topic_spec("nope")
