"""Structured logs (structlog) with the service name, the bound correlation id and, when tracing is
on (``bookshelf_servicekit.telemetry``), the current span's ``trace_id`` and ``span_id``.

Library loggers that use the standard ``logging`` module (uvicorn, aiokafka, alembic, SQLAlchemy) go
through the same renderer, so one log line is one JSON object whatever emitted it.

``LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR; default INFO) and ``LOG_FORMAT`` (``json``, the default,
one object per line for collectors; ``console``, aligned key=value lines for a person) choose them.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog
from bookshelf_messaging import context, tracing
from structlog.typing import EventDict, Processor, WrappedLogger


def _add_context(service: str) -> Processor:
    def processor(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        if "correlation_id" not in event:
            bound = context.current()
            if bound.correlation_id:
                event["correlation_id"] = bound.correlation_id
                if bound.causation_id:
                    event.setdefault("causation_id", bound.causation_id)
        return event

    return processor


def add_trace_ids(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    """``trace_id`` and ``span_id`` of the current span, when tracing is on and a span is current."""
    if tracing.enabled() and "trace_id" not in event:
        ids = tracing.current_ids()
        if ids is not None:
            event["trace_id"], event["span_id"] = ids
    return event


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("json", "console")


def logging_choice() -> tuple[str, bool]:
    """``(level, json)`` from ``LOG_LEVEL`` and ``LOG_FORMAT``; a value outside the choices is refused."""
    level = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
    fmt = os.environ.get("LOG_FORMAT", "json").strip().lower()
    if level not in LEVELS:
        raise ValueError(f"LOG_LEVEL={level!r}: expected one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT={fmt!r}: expected one of {', '.join(FORMATS)}")
    return level, fmt == "json"


def configure_logging(service: str, *, level: str | int | None = None, json: bool | None = None) -> None:
    """Route structlog and stdlib logging to one JSON (or console) renderer on stderr.

    ``level`` and ``json`` default to ``LOG_LEVEL`` and ``LOG_FORMAT`` (see the module docstring).
    """
    env_level, env_json = logging_choice()
    level = env_level if level is None else level
    json = env_json if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_context(service),
        add_trace_ids,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "sqlalchemy.engine", "uvicorn.access", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str, **bound: Any) -> Any:
    """A structlog logger with ``bound`` key/values."""
    return structlog.get_logger(name).bind(**bound)
