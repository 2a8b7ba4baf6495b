"""The catalog's FastAPI application: servicekit's app plus the catalog routes and error map."""

from __future__ import annotations

from bookshelf_servicekit.app import create_app
from bookshelf_servicekit.health import Readiness
from bookshelf_servicekit.problems import ProblemSpec, problem_type
from fastapi import FastAPI

from bookshelf_catalog.adapters.queries import BookQueries
from bookshelf_catalog.config import CatalogSettings
from bookshelf_catalog.domain.exceptions import BookNotFound, DuplicateIsbn, InvalidBook
from bookshelf_catalog.entrypoints import books, imports, webhooks
from bookshelf_catalog.service_layer.messagebus import MessageBus

DESCRIPTION = """Books of the Bookshelf catalog, bulk import, and the BookSupply webhook.

STAFF routes need `Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>`. Errors are problem+json.
"""


def build_app(settings: CatalogSettings, bus: MessageBus, queries: BookQueries) -> FastAPI:
    """The catalog app wired to ``bus`` (writes) and ``queries`` (reads)."""
    app = create_app(
        "catalog",
        settings=settings,
        routers=[books.router, imports.router, webhooks.router],
        problems={
            BookNotFound: 404,
            DuplicateIsbn: 409,
            InvalidBook: ProblemSpec(422, "Invalid input", problem_type("validation-error")),
        },
        body_limits={
            imports.IMPORT_PATH: imports.IMPORT_BODY_LIMIT,
            webhooks.WEBHOOK_PATH: webhooks.WEBHOOK_BODY_LIMIT,
        },
        readiness=Readiness(),
        description=DESCRIPTION,
    )
    app.state.bus = bus
    app.state.queries = queries
    return app
