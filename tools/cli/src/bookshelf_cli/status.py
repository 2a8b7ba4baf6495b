"""`bookshelf status`: consumer lag (records, seconds, in flight) per group, topic and lane; open dead
letters per topic; outbox backlog and oldest unpublished row per service."""

from __future__ import annotations

from typing import Annotated

import typer
from confluent_kafka import KafkaException
from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from bookshelf_cli.connect import kafka_settings, require_broker
from bookshelf_cli.local import LocalConfig
from bookshelf_cli.output import age, emit_json, fail, out
from bookshelf_cli.status_data import StatusReport, collect

LAG_WARN_S = 30.0
OUTBOX_WARN_S = 10.0


def _lag_style(seconds: float | None) -> str:
    if seconds is None:
        return "green"
    return "red" if seconds >= LAG_WARN_S else "yellow"


def consumers_table(report: StatusReport) -> Table:
    """Lag per group, topic and lane: a row naming each group, then its topics (fits 80 columns)."""
    table = Table(title="Consumer groups", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("group / topic", no_wrap=True)
    table.add_column("lane")
    for name in ("parts", "lag", "lag age", "in flight"):
        table.add_column(name, justify="right")
    group = None
    for r in report.consumers:
        if r.group != group:
            group = r.group
            table.add_row(f"[bold]{escape(r.group)}[/bold]", "", "", "", "", "")
        unknown = f" ({r.unknown_partitions}?)" if r.unknown_partitions else ""
        table.add_row(
            f"  {escape(r.topic)}",
            r.lane,
            f"{r.partitions}{unknown}",
            str(r.records),
            f"[{_lag_style(r.seconds)}]{age(r.seconds) if r.seconds is not None else '0'}[/]",
            "-" if r.in_flight is None else str(r.in_flight),
        )
    return table


def dead_letters_table(report: StatusReport) -> Table:
    """Open dead letters per topic."""
    table = Table(title="Dead letters (open)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("topic")
    table.add_column("open", justify="right")
    for topic, count in sorted(report.dead_letters.items()):
        table.add_row(escape(topic), f"[red]{count}[/]" if count else "0")
    return table


def outbox_table(report: StatusReport) -> Table:
    """Outbox backlog per service."""
    table = Table(title="Outbox", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("service", "unpublished", "oldest unpublished"):
        table.add_column(name, justify="left" if name == "service" else "right")
    for o in report.outbox:
        if o.error:
            table.add_row(o.service, "-", f"[yellow]{escape(o.error)}[/]")
            continue
        style = "red" if (o.oldest_age_s or 0) >= OUTBOX_WARN_S else "green"
        table.add_row(
            o.service, str(o.backlog), f"[{style}]{age(o.oldest_age_s) if o.oldest_age_s else '-'}[/]"
        )
    return table


def status_view(report: StatusReport) -> RenderableType:
    """Every table, then the notes and where to look next."""
    parts: list[RenderableType] = [consumers_table(report), dead_letters_table(report), outbox_table(report)]
    parts += [f"[dim]{escape(note)}[/dim]" for note in report.notes]
    if any(report.dead_letters.values()):
        parts.append("Dead letters: `bookshelf dlq list`, then `bookshelf dlq inspect ID`.")
    return Group(*parts)


def status(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of tables.")
    ] = False,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Only groups matching this glob (repeatable).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.5, help="Seconds to wait for the broker.")
    ] = 10.0,
    serve: Annotated[
        int | None,
        typer.Option("--serve", help="Serve the status as Prometheus metrics on this port instead."),
    ] = None,
    bind: Annotated[str, typer.Option("--bind", help="Address for --serve.")] = "127.0.0.1",
    min_interval: Annotated[
        float, typer.Option("--min-interval", min=0, help="--serve: seconds between two collections.")
    ] = 10.0,
) -> None:
    """Lag per consumer group and topic (records, seconds, in flight; per lane), open dead letters per
    topic, and each service's outbox backlog with the age of its oldest unpublished row."""
    config = LocalConfig()
    kafka = kafka_settings(config)
    admin = require_broker(kafka)
    if serve is not None:
        from bookshelf_cli.exporter import serve as serve_metrics

        out.print(f"Serving bookshelf status metrics on http://{bind}:{serve}/metrics (Ctrl-C stops).")
        serve_metrics(lambda: collect(config, kafka, admin, group, timeout), bind, serve, min_interval)
        return
    try:
        report = collect(config, kafka, admin, group, timeout)
    except (KafkaException, TimeoutError) as exc:
        fail(
            f"reading from the broker at {kafka.bootstrap_servers} failed: {exc}",
            "check the broker and retry",
        )
    if json_output:
        emit_json(report.to_json())
    else:
        out.print(status_view(report))
