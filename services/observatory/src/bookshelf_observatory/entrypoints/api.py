"""The JSON API behind the dashboard pages (``/api/...``): all of it STAFF (the staff bearer token or
the dashboard's sign-in cookie), since it shows payloads and stack traces. Every answer is typed by a
model of ``entrypoints.schemas`` (the OpenAPI document names each field)."""

from __future__ import annotations

from typing import Annotated, Any

from bookshelf_messaging import REPLAY_LIMIT
from bookshelf_servicekit.no_body import NoBody
from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from bookshelf_observatory.entrypoints import schemas
from bookshelf_observatory.entrypoints.auth import require_api_staff
from bookshelf_observatory.entrypoints.deps import ChartsDep, Runtime

router = APIRouter(prefix="/api", tags=["observatory"], dependencies=[Depends(require_api_staff)])

_PROBLEM: dict[str, Any] = {"description": "problem+json", "content": {"application/problem+json": {}}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "missing or bad staff token"},
    404: {**_PROBLEM, "description": "not in the index"},
}
_STAFF: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "missing or bad staff token"},
    409: {
        **_PROBLEM,
        "description": "the entry is closed, was replayed too often, or does not hold the whole record",
    },
    **_NOT_FOUND,
}
EntryId = Annotated[str, Path(min_length=1, max_length=64, description="Dead-letter entry id")]
# Kafka's legal topic names: anything else cannot name a topic, and must not reach the broker.
TOPIC_NAME = r"^[A-Za-z0-9._-]+$"


@router.get("/overview", response_model=schemas.Overview)
async def overview(runtime: Runtime) -> dict[str, Any]:
    """Service health, throughput per topic, lag per group, outbox backlog, DLQ depth, recent failures."""
    return await runtime.overview()


@router.get("/lag", response_model=list[schemas.LagRow])
async def lag(runtime: Runtime) -> list[dict[str, Any]]:
    """Lag per consumer group and topic: records (fetch high watermark - committed) and seconds."""
    return await runtime.lag()


@router.get(
    "/trace/{query:path}", responses=_NOT_FOUND, response_model=schemas.TraceDocument
)  # a correlation id may hold "/"
async def trace(
    runtime: Runtime, query: Annotated[str, Path(min_length=1, max_length=200)]
) -> dict[str, Any]:
    """The causation tree of a correlation id, or of an order id (any record key), from the index."""
    return (await runtime.trace(query)).to_dict()


@router.get("/dead-letters", response_model=list[schemas.DeadLetterSummary])
async def dead_letters(
    runtime: Runtime,
    topic: Annotated[
        str | None, Query(max_length=249, pattern=TOPIC_NAME, description="Only this .dlq topic")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Open dead letters, newest first."""
    return await runtime.dead_letters(topic, limit)


@router.get("/dead-letters/{entry_id}", responses=_NOT_FOUND, response_model=schemas.DeadLetterDetail)
async def dead_letter(runtime: Runtime, entry_id: EntryId) -> dict[str, Any]:
    """One dead letter with its error, stack trace and payload."""
    return await runtime.dead_letter(entry_id)


@router.post("/dead-letters/{entry_id}/replay", responses=_STAFF, response_model=schemas.DeadLetterAction)
async def replay(
    runtime: Runtime,
    __: NoBody,
    entry_id: EntryId,
    max_replays: Annotated[int, Query(ge=1, le=100)] = REPLAY_LIMIT,
    from_original: Annotated[
        bool, Query(description="Re-read the whole record at its original offset (an entry cut to 64 KiB)")
    ] = False,
) -> dict[str, Any]:
    """STAFF. Re-publish the entry's original record to its topic for the group that failed it (replay
    count + 1) and close it."""
    return await runtime.replay(entry_id, max_replays, from_original=from_original)


@router.post("/dead-letters/{entry_id}/purge", responses=_STAFF, response_model=schemas.DeadLetterAction)
async def purge(runtime: Runtime, __: NoBody, entry_id: EntryId) -> dict[str, Any]:
    """STAFF. Close the entry without replaying it."""
    return await runtime.purge(entry_id)


class TopicPurge(BaseModel):
    """The entries to close: the ones the dashboard showed when staff confirmed."""

    model_config = ConfigDict(extra="forbid")

    entry_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=100_000)


@router.post("/dead-letter-topics/{topic}/purge", responses=_STAFF, response_model=schemas.TopicPurge)
async def purge_topic(
    runtime: Runtime,
    topic: Annotated[str, Path(min_length=1, max_length=249, pattern=TOPIC_NAME)],
    body: Annotated[TopicPurge | None, Body()] = None,
) -> dict[str, Any]:
    """STAFF. Close open entries of a topic's DLQ (any of its names: x, x.bulk or x.dlq) without
    replaying them: exactly ``entry_ids`` (those still open), or without a body the entries open in
    the index now. Dead letters that arrived meanwhile stay open."""
    return await runtime.purge_topic(topic, None if body is None else body.entry_ids)


@router.get("/sagas", response_model=schemas.Sagas)
async def sagas(
    runtime: Runtime, state: Annotated[str | None, Query(description="Only this saga state")] = None
) -> dict[str, Any]:
    """Saga instances by state and the stuck ones (past their deadline), from the fulfillment worker."""
    return await runtime.sagas(state)


@router.get("/charts", response_model=schemas.Charts)
async def chart_series(charts: ChartsDep) -> dict[str, Any]:
    """Throughput per topic (records/s) and lag per consumer group (records) over the last 15 minutes,
    one value per 5-second slot; the overview's charts."""
    return await charts.series()
