"""`bookshelf tail TOPIC [--key K]`: the records of a topic as they arrive, envelopes pretty-printed.

Reads every partition without joining a consumer group (nothing is committed, no group is left
behind), from the end by default or from the beginning with ``--from-beginning``. Each record shows
its partition, offset, key, time and headers, then its value: an envelope is printed as indented
JSON, anything else as text (or a byte count when it is binary).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
import typer
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition
from rich.console import Console
from rich.markup import escape

from bookshelf_cli.connect import kafka_settings, require_broker
from bookshelf_cli.output import fail

console = Console(highlight=False)


def describe_value(value: bytes | None) -> str:
    """An envelope as indented JSON; other text as is; binary as its size; a tombstone as such."""
    if value is None:
        return "(tombstone: no value)"
    try:
        return orjson.dumps(orjson.loads(value), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        try:
            return value.decode()
        except UnicodeDecodeError:
            return f"({len(value)} bytes, not text)"


def describe(message: Any) -> str:
    """One record as rich text: a header line, its headers, its value."""
    _, millis = message.timestamp()
    when = time.strftime("%H:%M:%S", time.localtime(millis / 1000)) if millis > 0 else "?"
    key = message.key().decode(errors="replace") if message.key() is not None else "-"
    head = (
        f"[bold]{escape(message.topic())}[/bold] p{message.partition()} @{message.offset()} "
        f"[cyan]key={escape(key)}[/cyan] [dim]{when}[/dim]"
    )
    headers = " ".join(
        f"{k}={v.decode(errors='replace')}" for k, v in message.headers() or [] if v is not None
    )
    return f"{head}\n[dim]{escape(headers)}[/dim]\n{escape(describe_value(message.value()))}"


def tail(
    topic: Annotated[str, typer.Argument(help="The topic to read, e.g. ordering.orders.")],
    key: Annotated[str | None, typer.Option("--key", "-k", help="Only records with this key.")] = None,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest record.")
    ] = False,
    max_records: Annotated[int | None, typer.Option("--max", help="Stop after this many records.")] = None,
    idle_exit: Annotated[
        float | None, typer.Option("--idle-exit", help="Stop after this many seconds without a record.")
    ] = None,
) -> None:
    """Print a topic's records as they arrive (Ctrl-C stops)."""
    kafka = kafka_settings()
    admin = require_broker(kafka)
    found = admin.list_topics(topic, timeout=10).topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        fail(f"no topic {topic} on {kafka.bootstrap_servers}", "list the topics with `bookshelf status`")
    consumer = Consumer(
        {**kafka.confluent_config(), "group.id": "bookshelf-tail", "enable.auto.commit": False}
    )  # assign() below: the group id is never joined, nothing is committed
    start = OFFSET_BEGINNING if from_beginning else OFFSET_END
    consumer.assign([TopicPartition(topic, p, start) for p in sorted(found.partitions)])
    shown, quiet_since = 0, time.monotonic()
    try:
        while max_records is None or shown < max_records:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                if idle_exit is not None and time.monotonic() - quiet_since > idle_exit:
                    break
                continue
            quiet_since = time.monotonic()
            if key is not None and (message.key() or b"").decode(errors="replace") != key:
                continue
            console.print(describe(message))
            shown += 1
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
