"""Base classes of every message on the wire."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

CONTRACT_CONFIG = ConfigDict(frozen=True, extra="forbid")


class Message(BaseModel):
    """A contract: immutable data with a wire type name and an integer schema version."""

    model_config = CONTRACT_CONFIG

    # Wire type name; defaults to the class name (set in __pydantic_init_subclass__).
    TYPE: ClassVar[str] = "Message"
    # Schema version of the contract (not the aggregate version some events carry as a field).
    VERSION: ClassVar[int] = 1
    # The primary topic that carries it (``topics.TOPICS`` derives each topic's types from this); empty
    # for the legacy versions kept for upcasting.
    TOPIC: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            cls.TYPE = cls.__name__


class Event(Message):
    """Something that happened, named in the past tense (``StockReserved``)."""


class Command(Message):
    """A request to do something, named in the imperative (``ReserveStock``)."""
