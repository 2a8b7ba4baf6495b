"""FastAPI plumbing every Bookshelf service shares.

- ``settings``: ``ServiceSettings`` (dev/prod, admin token, database, host/port, role)
- ``app``: ``create_app`` (correlation id, body limits, problem+json, /healthz /readyz /metrics)
- ``auth``: ``require_staff`` / ``Staff`` (bearer admin token)
- ``no_body``: ``NoBody`` (write routes without a body reject one)
- ``idempotency``: ``Idempotency-Key`` store and ``run_idempotent``
- ``pagination``: ``Page``, ``PageParams``, ``Pagination``
- ``migrations``: ``upgrade_head``, ``run_env``
- ``runtime``: ``run_service``, ``Components``
- ``logging``: ``configure_logging``
"""

from bookshelf_servicekit.app import create_app, readiness_of
from bookshelf_servicekit.auth import Staff, Unauthorized, require_staff
from bookshelf_servicekit.errors import Conflict, InvalidInput, NotFound
from bookshelf_servicekit.health import Readiness
from bookshelf_servicekit.idempotency import (
    IdempotencyDep,
    IdempotencyKeyReused,
    IdempotencyRequest,
    StoredResponse,
    run_idempotent,
)
from bookshelf_servicekit.middleware import MIB, correlation_id_of
from bookshelf_servicekit.no_body import NoBody
from bookshelf_servicekit.pagination import Page, PageParams, Pagination
from bookshelf_servicekit.problems import ProblemRegistry, ProblemSpec, problem
from bookshelf_servicekit.responses import OrjsonResponse
from bookshelf_servicekit.settings import InsecureSettingsError, Role, ServiceSettings

__all__ = [
    "MIB",
    "Conflict",
    "IdempotencyDep",
    "IdempotencyKeyReused",
    "IdempotencyRequest",
    "InsecureSettingsError",
    "InvalidInput",
    "NoBody",
    "NotFound",
    "OrjsonResponse",
    "Page",
    "PageParams",
    "Pagination",
    "ProblemRegistry",
    "ProblemSpec",
    "Readiness",
    "Role",
    "ServiceSettings",
    "Staff",
    "StoredResponse",
    "Unauthorized",
    "correlation_id_of",
    "create_app",
    "problem",
    "readiness_of",
    "require_staff",
    "run_idempotent",
]
