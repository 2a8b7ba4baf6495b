"""An AsyncAPI 3.0 document of every topic: its key, partitions, lanes and the messages it carries.

Generated from ``TOPICS`` and the contract models (``python -m bookshelf_contracts.export`` writes it
as ``asyncapi.json`` beside the JSON Schemas, whose files it references for each message's ``data``).
The record value is the envelope (``envelope.json``); the record headers repeat its identity.
"""

from __future__ import annotations

from typing import Any

from bookshelf_contracts.base import Command
from bookshelf_contracts.registry import CONTRACTS
from bookshelf_contracts.topics import TOPICS, bulk, dlq

HEADERS = {
    "type": "object",
    "properties": {
        "message_id": {"type": "string", "format": "uuid", "description": "the envelope's message_id"},
        "type": {"type": "string", "description": "the contract's type name, e.g. OrderPlaced"},
        "correlation_id": {"type": "string", "description": "one id for everything one request caused"},
        "causation_id": {"type": "string", "description": "message_id of the message that caused this one"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
    },
}


def _message(cls: type[Any], key_field: str) -> dict[str, Any]:
    kind = "command" if issubclass(cls, Command) else "event"
    return {
        "name": cls.TYPE,
        "title": f"{cls.TYPE} v{cls.VERSION} ({kind})",
        "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else cls.TYPE,
        "contentType": "application/json",
        "headers": HEADERS,
        "payload": {
            "allOf": [
                {"$ref": "envelope.json"},
                {"type": "object", "properties": {"data": {"$ref": f"{cls.TYPE}.v{cls.VERSION}.json"}}},
            ]
        },
        "bindings": {
            "kafka": {"key": {"type": "string", "description": key_field}, "bindingVersion": "0.5.0"}
        },
    }


def render_asyncapi() -> dict[str, Any]:
    """The whole document as a dict (deterministic: the export compares it with the committed file)."""
    by_type = {cls.TYPE: cls for cls in CONTRACTS}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in TOPICS:
        refs = {t: {"$ref": f"#/components/messages/{t}"} for t in spec.types}
        for address, role in ((spec.name, "primary lane"), (bulk(spec.name), "bulk lane (imports)")):
            channels[address] = {
                "address": address,
                "description": f"{role}; key: {spec.key_field}; dead letters in {dlq(spec.name)}",
                "messages": refs,
                "bindings": {"kafka": {"partitions": spec.partitions, "bindingVersion": "0.5.0"}},
            }
        operations[f"publish {spec.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{spec.name}"},
            "messages": [{"$ref": f"#/channels/{spec.name}/messages/{t}"} for t in spec.types],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Bookshelf topics",
            "version": "1",
            "description": "Every topic of the bookstore, its key and the contracts it carries.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {t: _message(by_type[t], spec.key_field) for spec in TOPICS for t in spec.types}
        },
    }
