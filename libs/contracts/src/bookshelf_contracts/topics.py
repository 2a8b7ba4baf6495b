"""Kafka topic names, keys and the type -> topic map (docs/reference/kafka.md "Topics").

Every primary topic has a ``<topic>.bulk`` lane (same key, same partitions) and a ``<topic>.dlq``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bookshelf_contracts import topic_names as names
from bookshelf_contracts.base import Message
from bookshelf_contracts.errors import UnknownMessageType
from bookshelf_contracts.registry import CONTRACTS

BULK_SUFFIX = ".bulk"
DLQ_SUFFIX = ".dlq"

# The saga reads these; they must stay co-partitioned (same key, same partition count).
SAGA_INPUT_TOPICS = (names.ORDERING_ORDERS, names.INVENTORY_RESERVATIONS, names.SHIPPING_SHIPMENTS)
DEFAULT_PARTITIONS = 6


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A primary topic: its name, the message field that is its key, partitions, and the types it carries
    (the contract classes whose ``TOPIC`` is this topic, in declaration order)."""

    name: str
    key_field: str
    partitions: int = DEFAULT_PARTITIONS

    @property
    def types(self) -> tuple[str, ...]:
        """The type names of the contracts this topic carries."""
        return _CARRIED.get(self.name, ())


def _carried_by_topic() -> dict[str, tuple[str, ...]]:
    carried: dict[str, tuple[str, ...]] = {}
    for cls in CONTRACTS:
        carried[cls.TOPIC] = (*carried.get(cls.TOPIC, ()), cls.TYPE)
    return carried


_CARRIED = _carried_by_topic()

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(names.CATALOG_BOOKS, "book_id"),
    TopicSpec(names.INVENTORY_STOCK, "book_id"),
    TopicSpec(names.INVENTORY_RESERVATIONS, "order_id"),
    TopicSpec(names.ORDERING_ORDERS, "order_id"),
    TopicSpec(names.SHIPPING_SHIPMENTS, "order_id"),
    TopicSpec(names.INVENTORY_COMMANDS, "order_id"),
    TopicSpec(names.ORDERING_COMMANDS, "order_id"),
    TopicSpec(names.SHIPPING_COMMANDS, "order_id"),
    TopicSpec(names.SUPPLIER_BOOK_SUPPLY, "payload_id"),
)

if _unknown := set(_CARRIED) - {spec.name for spec in TOPICS}:
    raise RuntimeError(f"contracts name topics that are not in TOPICS: {sorted(_unknown)}")

_BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in TOPICS}
_BY_TYPE: dict[str, TopicSpec] = {type_name: spec for spec in TOPICS for type_name in spec.types}


def bulk(topic: str) -> str:
    """The bulk (priority) lane of a topic: ``<topic>.bulk``."""
    return f"{topic}{BULK_SUFFIX}"


def dlq(topic: str) -> str:
    """The dead-letter topic of a topic: ``<topic>.dlq``."""
    return f"{topic}{DLQ_SUFFIX}"


def primary(topic: str) -> str:
    """The primary topic of a name that may be a ``.bulk`` lane or a ``.dlq`` (``x.bulk`` -> ``x``)."""
    for suffix in (BULK_SUFFIX, DLQ_SUFFIX):
        if topic.endswith(suffix):
            return topic[: -len(suffix)]
    return topic


def all_topic_names() -> list[str]:
    """Every topic to create: each primary topic, its ``.bulk`` lane and its ``.dlq``."""
    return [name for spec in TOPICS for name in (spec.name, bulk(spec.name), dlq(spec.name))]


def topic_spec(topic: str) -> TopicSpec:
    """The spec of a primary topic, or of the primary topic behind a ``.bulk``/``.dlq`` name."""
    try:
        return _BY_NAME[primary(topic)]
    except KeyError:
        raise LookupError(f"unknown topic {topic!r}; known: {', '.join(_BY_NAME)}") from None


def topic_for(message_or_type: Message | type[Message] | str) -> str:
    """The primary topic of a message, a message class or a type name; raises ``UnknownMessageType``."""
    type_name = message_or_type if isinstance(message_or_type, str) else message_or_type.TYPE
    try:
        return _BY_TYPE[type_name].name
    except KeyError:
        raise UnknownMessageType(f"no topic carries message type {type_name!r}") from None


def key_for(message: Message) -> str:
    """The record key of a message: the value of its topic's key field, as a string."""
    spec = _BY_TYPE.get(message.TYPE)
    if spec is None:
        raise UnknownMessageType(f"no topic carries message type {message.TYPE!r}")
    return str(getattr(message, spec.key_field))
