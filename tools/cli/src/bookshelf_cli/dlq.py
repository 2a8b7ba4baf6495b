"""`bookshelf dlq list|inspect|replay|replay-all|close|purge`: the replay path for dead letters.

Kafka UIs can show `<topic>.dlq` records but cannot send them back to their source topic with the
right key, headers and replay count, nor close the entry; these commands (and the observatory) do.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from confluent_kafka import KafkaException
from rich.progress import Progress

from bookshelf_cli import dlq_view as view
from bookshelf_cli.connect import kafka_settings, require_broker
from bookshelf_cli.output import EXIT_FAILED, EXIT_USAGE, emit_json, err, fail, out, plural

if TYPE_CHECKING:
    # bookshelf_messaging takes a second to import: commands import it when they run, not `--help`.
    from bookshelf_messaging.dlq import DeadLetter
    from bookshelf_messaging.dlq_store import DeadLetterStore

dlq_app = typer.Typer(
    help="Dead letters: list, inspect, replay to the group that failed, close, purge.", no_args_is_help=True
)

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
MaxReplays = Annotated[
    int | None,
    typer.Option(
        "--max-replays",
        min=1,
        help="Refuse entries already replayed this many times [default: the replay limit, 5].",
    ),
]
LIST_HINT = "`bookshelf dlq list` shows the open entries"


def _replay_limit(max_replays: int | None) -> int:
    """``--max-replays``, else the shared replay limit (``bookshelf_messaging.policy.REPLAY_LIMIT``)."""
    from bookshelf_messaging.policy import REPLAY_LIMIT

    return REPLAY_LIMIT if max_replays is None else max_replays


@contextmanager
def _store(topic: str | None = None) -> Iterator[DeadLetterStore]:
    """A store on a reachable broker; Kafka errors become messages with a next step."""
    from bookshelf_messaging.dlq_store import DeadLetterStore, dlq_topic_name

    kafka = kafka_settings()
    admin = require_broker(kafka)
    store = DeadLetterStore(kafka)
    if topic is not None:
        known = sorted(t for t in admin.list_topics(timeout=5).topics if t.endswith(".dlq"))
        if dlq_topic_name(topic) not in known:
            names = ", ".join(t.removesuffix(".dlq") for t in known) or "none (run `bookshelf run`)"
            fail(f"no dead-letter topic for {topic!r}", f"use one of: {names}", EXIT_USAGE)
    try:
        yield store
    except (KafkaException, TimeoutError) as exc:
        fail(
            f"talking to the broker at {kafka.bootstrap_servers} failed: {exc}", "check the broker and retry"
        )


def _not_found(exc: Exception) -> NoReturn:
    fail(str(exc).split(";")[0], LIST_HINT)


def _entry(store: DeadLetterStore, entry_id: str) -> DeadLetter:
    """The entry ``entry_id`` of ``store``, or exit 1 saying how to find a valid id."""
    from bookshelf_messaging.dlq_store import DeadLetterNotFound

    try:
        return store.get(entry_id)
    except DeadLetterNotFound as exc:
        _not_found(exc)


@dlq_app.command("list")
def list_entries(
    topic: Annotated[
        str | None, typer.Option("--topic", "-t", help="Only this topic's dead letters.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Open dead letters, newest first: id, topic, group, error, failed at, attempts."""
    with _store(topic) as store:
        entries = store.list_open(topic)
    if json_output:
        emit_json({"entries": [view.entry_summary(e) for e in entries], "total": len(entries)})
    elif entries:
        out.print(view.list_table(entries))
        out.print("Details: `bookshelf dlq inspect ID`; replay: `bookshelf dlq replay ID`.")
    else:
        out.print(f"No open dead letters{f' for {topic}' if topic else ''}.")


@dlq_app.command("inspect")
def inspect(
    entry_id: Annotated[str, typer.Argument(help="Entry id from `dlq list`.")],
    json_output: JsonOption = False,
) -> None:
    """One entry with its payload, headers, error and stack trace."""
    with _store() as store:
        entry = _entry(store, entry_id)
    if json_output:
        emit_json(view.entry_detail(entry))
    else:
        out.print(view.inspect_view(entry))


@dlq_app.command("replay")
def replay(
    entry_id: Annotated[str, typer.Argument(help="Entry id from `dlq list`.")],
    max_replays: MaxReplays = None,
    from_original: Annotated[
        bool,
        typer.Option(
            "--from-original",
            help="Re-read the whole record at its original topic/partition/offset (for a cut entry).",
        ),
    ] = False,
) -> None:
    """Re-publish an entry to its original topic for the group that failed it, and close it."""
    from bookshelf_messaging.dlq_store import DeadLetterNotFound, NotReplayable, ReplayLimitExceeded

    with _store() as store:
        try:
            limit = _replay_limit(max_replays)
            if from_original:
                entry = store.replay_from_original(entry_id, max_replays=limit)
            else:
                entry = store.replay(entry_id, max_replays=limit)
        except DeadLetterNotFound as exc:
            _not_found(exc)
            return
        except ReplayLimitExceeded as exc:
            fail(
                str(exc).split(". Fix")[0],
                "fix the cause first, then replay with a higher --max-replays, or close the entry with "
                f"`bookshelf dlq close {entry_id}`",
            )
        except NotReplayable as exc:
            reason, _, todo = str(exc).partition(". ")
            hint = f"{todo[:1].lower()}{todo[1:]}"
            if "dlq.value_truncated" in reason:
                hint += f"; `bookshelf dlq replay {entry_id} --from-original` does both (after the fix)"
            fail(reason, f"{hint}; `bookshelf dlq close {entry_id}` only closes it")
    out.print(
        f"Replayed {entry.entry_id} to {entry.original_topic} for group {entry.consumer_group} "
        f"(replay {entry.replay_count + 1}); entry closed. Other groups skip it. "
        "If it fails again it comes back as a new entry in `bookshelf dlq list`."
    )


@dlq_app.command("close")
def close(
    entry_id: Annotated[str, typer.Argument(help="Entry id from `dlq list`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Close one entry without replaying it (its record is dropped for good)."""
    with _store() as store:
        entry = _entry(store, entry_id)
        _confirm(f"Close dead letter {entry_id} of {entry.original_topic} without replaying it?", yes)
        closed = store.close_ids(entry.dlq_topic, [entry_id])
    if closed:
        out.print(f"Closed {entry_id}.")
    else:
        out.print(f"{entry_id} was closed meanwhile; nothing to do.")


def _select(store: DeadLetterStore, topic: str, error_type: str | None) -> list[DeadLetter]:
    return [e for e in store.list_open(topic) if view.matches_error_type(e, error_type)]


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        fail("refusing to change dead letters without confirmation", "add --yes", EXIT_USAGE)
    if not typer.confirm(question):
        fail("cancelled, nothing changed", "run again and answer y, or add --yes")


def _in_batches(
    items: list[T],
    rate: float,
    work: Callable[[list[T]], object],
    on_done: Callable[[int], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run ``work`` over ``items`` at most ``rate`` items per second (0: all at once)."""
    size = len(items) if rate <= 0 else max(1, int(rate))
    for start in range(0, len(items), size):
        began = time.monotonic()
        batch = items[start : start + size]
        work(batch)
        on_done(len(batch))
        if rate > 0 and start + size < len(items):
            sleep(max(0.0, len(batch) / rate - (time.monotonic() - began)))


@dlq_app.command("replay-all")
def replay_all(
    topic: Annotated[str, typer.Option("--topic", "-t", help="The topic whose dead letters to replay.")],
    error_type: Annotated[
        str | None, typer.Option("--error-type", "-e", help="Only this error type (full or last part).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only print counts by error type.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    rate: Annotated[
        float, typer.Option("--rate", min=0, help="At most N entries per second (0: no limit).")
    ] = 0,
    max_replays: MaxReplays = None,
    json_output: JsonOption = False,
) -> None:
    """Replay every matching entry of a topic (oldest first); `--dry-run` prints counts by error type."""
    max_replays = _replay_limit(max_replays)
    with _store(topic) as store:
        entries = list(reversed(_select(store, topic, error_type)))
        whole = [e for e in entries if e.replay_refusal() is None]
        due = [e for e in whole if e.replay_count < max_replays]
        over = [e for e in whole if e.replay_count >= max_replays]
        _warn_not_replayable([e for e in entries if e.replay_refusal() is not None], dry_run)
        if dry_run:
            _report(topic, due, over, max_replays, json_output, dry_run=True)
            return
        if due:
            _confirm(f"Replay {plural(len(due), 'dead letter')} of {topic} to their original topic?", yes)
            with Progress(console=err, disable=json_output) as progress:
                task = progress.add_task("replaying", total=len(due))
                _in_batches(
                    due,
                    rate,
                    lambda batch: store.replay_entries(batch, max_replays=max_replays),
                    lambda n: progress.advance(task, n),
                )
    _report(topic, due, over, max_replays, json_output, dry_run=False)


def _warn_not_replayable(entries: list[DeadLetter], dry_run: bool) -> None:
    """Entries without their whole record (cut, or a tombstone) are never replayed: say so."""
    if not entries:
        return
    outcome = "would be left open" if dry_run else "are left open"
    err.print(
        f"[yellow]{plural(len(entries), 'entry')} without the whole original record {outcome}[/yellow]: "
        + ", ".join(e.entry_id for e in entries[:10])
    )
    err.print("next: `bookshelf dlq replay ID` says what to do with each; `bookshelf dlq close ID` closes it")


def _report(
    topic: str,
    entries: list[DeadLetter],
    over: list[DeadLetter],
    max_replays: int,
    json_output: bool,
    *,
    dry_run: bool,
) -> None:
    counts = view.counts_by_error_type(entries)
    if json_output:
        emit_json(
            {
                "topic": topic,
                "dry_run": dry_run,
                ("would_replay" if dry_run else "replayed"): len(entries),
                "by_error_type": counts,
                "over_replay_limit": [e.entry_id for e in over],
            }
        )
    else:
        title = f"{'Would replay' if dry_run else 'Replayed'} from {topic}"
        out.print(view.counts_table(title, counts) if counts else f"No matching dead letters for {topic}.")
    if over:
        outcome = "would be skipped" if dry_run else "were left open"
        err.print(
            f"[yellow]{plural(len(over), 'entry')} already replayed {max_replays} times {outcome}[/yellow]: "
            + ", ".join(e.entry_id for e in over[:10])
        )
        err.print("next: fix the cause, then use --max-replays, or purge them")
        if not dry_run:
            raise typer.Exit(EXIT_FAILED)


@dlq_app.command("purge")
def purge(
    topic: Annotated[str, typer.Option("--topic", "-t", help="The topic whose dead letters to close.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Close the open entries of a topic without replaying them (the records are dropped for good).

    Closes exactly the entries counted in the question: dead letters that arrive while it waits for
    the answer stay open.
    """
    with _store(topic) as store:
        entries = store.list_open(topic)
        if not entries:
            out.print(f"No open dead letters for {topic}.")
            return
        _confirm(f"Close {plural(len(entries), 'dead letter')} of {topic} without replaying them?", yes)
        closed = store.close_ids(topic, [e.entry_id for e in entries])
    out.print(f"Closed {plural(len(closed), 'dead letter')} of {topic}.")
    if len(closed) < len(entries):
        out.print(f"{plural(len(entries) - len(closed), 'entry')} had been closed meanwhile.")
