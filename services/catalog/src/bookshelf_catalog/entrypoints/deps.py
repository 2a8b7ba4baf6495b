"""FastAPI dependencies: the wired bus, queries and settings, read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bookshelf_catalog.adapters.queries import BookQueries
from bookshelf_catalog.config import CatalogSettings
from bookshelf_catalog.service_layer.messagebus import MessageBus


def get_bus(request: Request) -> MessageBus:
    """The message bus wired by bootstrap."""
    bus: MessageBus = request.app.state.bus
    return bus


def get_queries(request: Request) -> BookQueries:
    """The read-side queries wired by bootstrap."""
    queries: BookQueries = request.app.state.queries
    return queries


def get_settings(request: Request) -> CatalogSettings:
    """The catalog settings."""
    settings: CatalogSettings = request.app.state.settings
    return settings


Bus = Annotated[MessageBus, Depends(get_bus)]
Queries = Annotated[BookQueries, Depends(get_queries)]
Settings = Annotated[CatalogSettings, Depends(get_settings)]
