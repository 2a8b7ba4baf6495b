"""``bookshelf projections rebuild NAME``: rebuild a read model from the topics without downtime.

1. Under the read model's advisory lock, create generation N+1 of its tables (empty, same shape).
2. Build: a fresh consumer reads every partition of its topics (and their ``.bulk`` lanes) from the
   beginning to the high watermarks seen when it started, applying the same projections as the
   live consumers, into the new tables. The views still show generation N meanwhile.
3. VACUUM ANALYZE the new tables, then switch every view of the read model in one transaction.
4. Tail: a second fresh consumer (created after the switch) reads from where the build stopped to
   the watermarks it sees, so events the live consumer applied to generation N during the build
   reach generation N+1 as well (idempotent by version). The live consumer writes through the views,
   so it continues on N+1 by itself.
5. Drop generation N.

A failure before the switch drops the new tables and leaves the read model as it was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from bookshelf_contracts import bulk
from bookshelf_messaging import KafkaSettings, create_engine, create_session_factory
from bookshelf_messaging.admin import earliest_offsets_sync
from sqlalchemy.ext.asyncio import AsyncEngine

from bookshelf_storefront.adapters import generations as gen
from bookshelf_storefront.adapters.replay import ReplayCounts, Replayer
from bookshelf_storefront.adapters.tables import LIVE, physical
from bookshelf_storefront.adapters.topic_reader import Positions, TopicReader
from bookshelf_storefront.domain.read_models import ReadModel, resolve

Progress = Callable[[str, str, int, int | None], None]  # (read model, phase, records read, total)


class RebuildFailed(RuntimeError):
    """The rebuild stopped; the message says what state the read model is in and what to do."""


class HistoryIncomplete(RebuildFailed):
    """A source topic no longer starts at offset 0: a rebuild would see recent events only."""


async def check_history(kafka: KafkaSettings, models: list[ReadModel]) -> None:
    """Raise ``HistoryIncomplete`` naming every partition whose oldest records are gone."""
    topics = sorted({t for model in models for t in _topics(model)})
    try:
        earliest = await asyncio.to_thread(earliest_offsets_sync, kafka, topics)
    except Exception as exc:
        raise RebuildFailed(
            f"could not read where the topics start ({type(exc).__name__}: {exc}); the current generation "
            "keeps serving, nothing changed. Check that Kafka is reachable, then run the rebuild again."
        ) from exc
    cut = {f"{t}[{p}]": offset for (t, p), offset in sorted(earliest.items()) if offset > 0}
    if cut:
        shown = ", ".join(f"{tp} starts at {offset}" for tp, offset in list(cut.items())[:6])
        raise HistoryIncomplete(
            f"the topics no longer hold their whole history ({shown}{', ...' if len(cut) > 6 else ''}): "
            "a rebuild would replace the read model with recent events only, and nothing was changed. "
            "Restore the history (the topics are meant to keep it: retention.ms=-1), or rebuild anyway "
            "with --allow-partial-history if a partial read model is what you want."
        )


@dataclass
class RebuildReport:
    """The outcome of one read model's rebuild."""

    model: str
    previous_generation: int
    generation: int
    build: ReplayCounts
    tail: ReplayCounts
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def _topics(model: ReadModel) -> list[str]:
    return [name for topic in model.topics for name in (topic, bulk(topic))]


async def _phase(
    kafka: KafkaSettings,
    replayer: Replayer,
    model: ReadModel,
    phase: str,
    start: Positions | None,
    progress: Progress | None,
) -> Positions:
    async with TopicReader(kafka, _topics(model), start=start) as reader:
        async for records in reader.batches():
            await replayer.apply(records)
            if progress is not None:
                remaining = await reader.remaining()
                total = None if remaining is None else replayer.counts.read + remaining
                progress(model.name, phase, replayer.counts.read, total)
        if progress is not None:
            progress(model.name, phase, replayer.counts.read, replayer.counts.read)
        return await reader.positions()


async def _prepare(engine: AsyncEngine, model: ReadModel) -> tuple[int, list[str]]:
    async with engine.begin() as conn:
        current = await gen.current_generation(conn, model)
        leftovers = await gen.leftover_tables(conn, model, keep=current)
        await gen.drop_tables(conn, leftovers)
        await gen.create_generation(conn, model, current, current + 1)
    return current, leftovers


async def _drop_quietly(engine: AsyncEngine, model: ReadModel, generation: int) -> str | None:
    tables = [physical(base, generation) for base in model.tables]
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{gen.LOCK_TIMEOUT}'"))
            await gen.drop_tables(conn, tables)
    except Exception as exc:
        return f"could not drop {', '.join(tables)} ({type(exc).__name__}); the next rebuild drops them"
    return None


async def _build_and_switch(
    engine: AsyncEngine,
    kafka: KafkaSettings,
    model: ReadModel,
    report: RebuildReport,
    progress: Progress | None,
) -> Positions:
    target = report.generation
    replayer = Replayer(create_session_factory(engine), LIVE.with_generation(model, target), [model.name])
    try:
        positions = await _phase(kafka, replayer, model, "build", None, progress)
        await gen.analyze_generation(engine, model, target)
        await gen.switch_to(engine, model, target)
    except BaseException as exc:
        await _drop_quietly(engine, model, target)
        raise RebuildFailed(
            f"rebuild of {model.name!r} failed before the switch ({type(exc).__name__}: {exc}); "
            f"generation {report.previous_generation} keeps serving, nothing changed. "
            "Check that Kafka and PostgreSQL are reachable, then run the rebuild again."
        ) from exc
    report.build = replayer.counts
    return positions


async def _tail(
    engine: AsyncEngine,
    kafka: KafkaSettings,
    model: ReadModel,
    report: RebuildReport,
    start: Positions,
    progress: Progress | None,
) -> None:
    replayer = Replayer(
        create_session_factory(engine), LIVE.with_generation(model, report.generation), [model.name]
    )
    try:
        await _phase(kafka, replayer, model, "tail", start, progress)
    except Exception as exc:
        raise RebuildFailed(
            f"{model.name!r} switched to generation {report.generation}, but catching up with the events "
            f"that arrived during the rebuild failed ({type(exc).__name__}: {exc}); events of that window "
            "may be missing. Run the rebuild again (generation "
            f"{report.previous_generation} is kept until then)."
        ) from exc
    report.tail = replayer.counts


async def rebuild_model(
    engine: AsyncEngine, kafka: KafkaSettings, model: ReadModel, progress: Progress | None = None
) -> RebuildReport:
    """Rebuild one read model (see module doc); raises ``RebuildFailed`` or ``gen.RebuildBusy``."""
    started = time.monotonic()
    async with engine.connect() as lock_conn:
        await gen.lock_model(lock_conn, model)
        try:
            current, leftovers = await _prepare(engine, model)
            report = RebuildReport(model.name, current, current + 1, ReplayCounts(), ReplayCounts())
            if leftovers:
                report.warnings.append(f"dropped leftovers of an earlier rebuild: {', '.join(leftovers)}")
            positions = await _build_and_switch(engine, kafka, model, report, progress)
            await _tail(engine, kafka, model, report, positions, progress)
            warning = await _drop_quietly(engine, model, current)
            if warning:
                report.warnings.append(warning)
        finally:
            await gen.unlock_model(lock_conn, model)
    report.seconds = time.monotonic() - started
    return report


async def rebuild(
    database_url: str,
    kafka: KafkaSettings,
    name: str,
    progress: Progress | None = None,
    *,
    allow_partial_history: bool = False,
) -> list[RebuildReport]:
    """Rebuild the read model called ``name`` (or every one for ``all``), one after the other.

    Refuses (``HistoryIncomplete``) when a source topic lost its oldest records, unless
    ``allow_partial_history``.
    """
    models = resolve(name)
    if not allow_partial_history:
        await check_history(kafka, models)
    engine = create_engine(database_url, pool_size=4)
    try:
        return [await rebuild_model(engine, kafka, model, progress) for model in models]
    finally:
        await engine.dispose()
