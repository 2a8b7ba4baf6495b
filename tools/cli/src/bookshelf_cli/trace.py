"""`bookshelf trace ID`: the causation tree of every message of a correlation id (or of an order id).

It asks the observatory's index (`GET /api/trace/{id}` on `OBSERVATORY_URL`, default
http://127.0.0.1:9000). When the observatory does not answer (or its index does not know the id yet),
it scans every topic from the beginning with a throwaway consumer and builds the same tree. Outcomes
(handled, dead_lettered, replayed, purged, delivered; copies: duplicate, replay) are explained in
docs/observatory.md.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.markup import escape
from rich.tree import Tree

from bookshelf_cli.connect import admin_token, kafka_settings, require_broker, service_url
from bookshelf_cli.output import emit_json, err, fail, out

OUTCOME_STYLE = {
    "handled": "green",
    "delivered": "blue",
    "dead_lettered": "bold red",
    "replayed": "yellow",
    "purged": "yellow",
}


def from_index(url: str, query: str) -> dict[str, Any] | None:
    """The trace from the observatory; None when it does not know the id. Raises httpx errors when down."""
    headers = {"Authorization": f"Bearer {admin_token()}"}  # the observatory's API is STAFF
    response = httpx.get(f"{url}/api/trace/{quote(query, safe='')}", timeout=10.0, headers=headers)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def from_topics(query: str) -> dict[str, Any] | None:
    """The trace from a scan of every topic (slow on big topics, needs only the broker)."""
    from bookshelf_observatory.adapters.topic_scan import TopicScan

    kafka = kafka_settings()
    require_broker(kafka)
    trace = TopicScan(kafka).trace(query)
    return trace.to_dict() if trace is not None else None


def find(query: str, url: str, scan_only: bool) -> tuple[dict[str, Any] | None, str]:
    """The trace document and where it came from (``index`` or ``topic scan``)."""
    if not scan_only:
        try:
            document = from_index(url, query)
        except httpx.HTTPError as exc:
            err.print(
                f"[yellow]The observatory at {url} did not answer ({type(exc).__name__}); scanning the topics."
            )
        else:
            if document is not None:
                return document, "index"
            err.print(
                f"[yellow]The observatory's index does not know {escape(query)} (yet); scanning the topics."
            )
    return from_topics(query), "topic scan"


def _time(node: dict[str, Any]) -> str:
    stamp = node.get("occurred_at") or node.get("timestamp") or ""
    return stamp[11:23] if len(stamp) >= 23 else stamp or "-"


def node_label(node: dict[str, Any]) -> str:
    """One line per message: type, producer, where, when, outcome, copies and dead letters."""
    outcome = node["outcome"]
    parts = [
        f"[bold]{escape(node.get('type') or '?')}[/]",
        f"[cyan]{escape(node.get('producer') or '?')}[/]",
        f"{escape(node['topic'])}[{node['partition']}]@{node['offset']}",
        f"[dim]{_time(node)}[/]",
        f"[{OUTCOME_STYLE.get(outcome, 'white')}]{outcome}[/]",
    ]
    parts += [f"[yellow]+{c['outcome']} @{c['offset']}[/]" for c in node.get("copies", [])]
    for letter in node.get("dead_letters", []):
        state = "open" if letter["open"] else "closed"
        parts.append(
            f"[red]dead letter {letter['entry_id']} ({state}) by {escape(letter['consumer_group'])}: "
            f"{escape(letter['error_type'])}: {escape(letter['error_message'][:120])}[/]"
        )
    return "  ".join(parts)


def render(document: dict[str, Any], source: str) -> Tree:
    """A rich Tree of the whole forest."""
    ids = ", ".join(document["correlation_ids"])
    tree = Tree(
        f"[bold]trace {escape(document['query'])}[/]: {document['count']} message(s), "
        f"correlation id(s) {escape(ids)} [dim](from the {source})[/]"
    )
    stack = [(tree, root) for root in reversed(document["roots"])]
    while stack:  # iterative: a long chain must not hit the recursion limit
        parent, node = stack.pop()
        branch = parent.add(node_label(node))
        stack.extend((branch, child) for child in reversed(node.get("children", [])))
    return tree


def trace(
    correlation_id: Annotated[
        str,
        typer.Argument(metavar="CORRELATION_ID", help="A correlation id, or an order id (any record key)."),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    scan: Annotated[
        bool, typer.Option("--scan", help="Read the topics directly, even when the observatory runs.")
    ] = False,
    observatory_url: Annotated[
        str | None,
        typer.Option(
            "--observatory-url", help="Observatory base URL (default: OBSERVATORY_URL or port 9000)."
        ),
    ] = None,
) -> None:
    """The causation tree of every message with that correlation id across all topics and services."""
    url = (observatory_url or service_url("observatory")).rstrip("/")
    document, source = find(correlation_id.strip(), url, scan)
    if document is None:
        fail(
            f"no message has correlation id (or key) {correlation_id!r} on any topic",
            "use the X-Correlation-ID a response carried, or an order id; "
            "`bookshelf dlq list` shows the ids of failed messages",
        )
    if json_output:
        emit_json({**document, "source": source})
        return
    out.print(render(document, source))
