"""`bookshelf demo`: a running system with something to look at, in one command (idempotent).

1. Imports ``docs/samples/books.csv`` through ``POST /books/import`` (the bulk lane); books whose ISBN
   is already there are skipped, so a second run adds nothing.
2. Places three orders, each with a fixed ``Idempotency-Key`` (a second run gets the same orders):
   one that is fulfilled up to dispatch, one for more copies than the stock (50; the saga cancels it), one
   to a country shipping does not serve (the saga compensates: stock released, order cancelled).
3. Publishes one record that is not JSON on ``catalog.books`` (once: skipped when its dead letters
   are already there), which every consumer group of that topic dead-letters.
4. Prints where to look: the observatory, the trace of each order, the dead letters.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bookshelf_cli.connect import admin_token, kafka_settings, require_broker, service_url
from bookshelf_cli.output import fail

console = Console(highlight=False)
SAMPLE = Path(__file__).resolve().parents[4] / "docs" / "samples" / "books.csv"
POISON_KEY = "demo-poison"
ADDRESS = {"street": "1 Main St", "city": "Springfield", "zip_code": "12345", "country": "US"}
# (idempotency key, what it shows, quantity of the first book, country)
ORDERS = (
    ("demo-order-fulfilled-v1", "fulfilled: waits for dispatch", 1, "US"),
    ("demo-order-out-of-stock-v1", "out of stock: cancelled by the saga", 50, "US"),
    ("demo-order-undeliverable-v1", "undeliverable: stock released, cancelled", 1, "AQ"),
)


class Demo:
    """HTTP calls of the demo against the running services."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.staff = {"Authorization": f"Bearer {admin_token()}"}

    def call(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{service_url(service)}{path}"
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            fail(f"{service} at {url} does not answer ({exc})", "start the system with `make run`")

    def import_books(self) -> dict[str, Any]:
        body = SAMPLE.read_bytes()
        answer = self.call("POST", "catalog", "/books/import", content=body,
                           headers={**self.staff, "Content-Type": "text/csv"})  # fmt: skip
        if answer.status_code != 202:
            fail(f"the import was refused: {answer.status_code} {answer.text}", "check the catalog's log")
        result: dict[str, Any] = answer.json()
        return result

    def book_ids(self, isbns: set[str], within: float = 60.0) -> dict[str, str]:
        """ISBN -> book id of the sample books (they may take a moment to be stored)."""
        found: dict[str, str] = {}
        deadline = time.monotonic() + within
        while len(found) < len(isbns) and time.monotonic() < deadline:
            offset, total = 0, 1
            while offset < total and len(found) < len(isbns):
                page = self.call("GET", "catalog", f"/books?limit=100&offset={offset}").json()
                total = page["total"]
                found |= {b["isbn"]: b["book_id"] for b in page["entries"] if b.get("isbn") in isbns}
                offset += 100
            if len(found) < len(isbns):
                time.sleep(0.5)  # the import's rows are still being written: poll again
        if len(found) < len(isbns):
            fail(
                f"sample books missing from the catalog: {sorted(isbns - found.keys())}", "check the catalog"
            )
        return found

    def place(self, key: str, book_id: str, quantity: int, country: str, within: float = 60.0) -> str:
        """POST the order (retried while ordering's replica does not know the book yet: 422)."""
        body = {
            "customer": {"name": "Demo Customer", "email": "demo@example.com"},
            "shipping_address": {**ADDRESS, "country": country},
            "items": [{"book_id": book_id, "quantity": quantity}],
        }
        deadline = time.monotonic() + within
        while True:
            answer = self.call("POST", "ordering", "/orders", json=body, headers={"Idempotency-Key": key})
            if answer.status_code in (200, 201):
                order_id: str = answer.json()["order_id"]
                return order_id
            if answer.status_code != 422 or time.monotonic() > deadline:
                fail(
                    f"ordering refused the order: {answer.status_code} {answer.text}", "check ordering's log"
                )
            time.sleep(0.5)  # the replica catches up with the catalog: poll again

    def status(self, order_id: str) -> str:
        answer = self.call("GET", "ordering", f"/orders/{order_id}", headers=self.staff)
        return (
            str(answer.json().get("status", "?"))
            if answer.status_code == 200
            else f"HTTP {answer.status_code}"
        )


def poison_once() -> bool:
    """Publish the non-JSON record unless an earlier run did; True when published now."""
    from bookshelf_messaging.dlq_store import DeadLetterStore
    from confluent_kafka import Producer

    kafka = kafka_settings()
    require_broker(kafka)
    if any(e.original_key == POISON_KEY.encode() for e in DeadLetterStore(kafka).list_open("catalog.books")):
        return False
    producer = Producer(kafka.confluent_producer_config())
    producer.produce(
        "catalog.books", key=POISON_KEY.encode(), value=b"{not json", headers=[("type", b"BookAdded")]
    )
    producer.flush(10)
    return True


def demo(
    settle: Annotated[
        float, typer.Option("--settle", help="Seconds to wait for the sagas to decide.")
    ] = 30.0,
) -> None:
    """Seed books, place orders that show the saga's paths, publish a poison record; print where to look."""
    if not SAMPLE.is_file():
        fail(f"the sample books are missing ({SAMPLE})", "run the demo from a clone of the repository")
    rows = list(csv.DictReader(io.StringIO(SAMPLE.read_text())))
    with httpx.Client(timeout=15.0) as client:
        shop = Demo(client)
        imported = shop.import_books()
        console.print(f"Books: {imported['accepted']} imported, {len(imported['rejected'])} already there")
        ids = shop.book_ids({row["isbn"] for row in rows})
        first = ids[rows[0]["isbn"]]
        orders = [(shop.place(key, first, qty, country), what) for key, what, qty, country in ORDERS]
        published = poison_once()
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline and any(shop.status(o) == "PENDING" for o, _ in orders):
            time.sleep(0.5)  # the sagas decide within a few hundred milliseconds: poll until then
        table = Table(title="Orders", title_justify="left")
        for column in ("order", "shows", "status", "trace"):
            table.add_column(column, no_wrap=column != "shows")
        for order_id, what in orders:
            table.add_row(order_id, what, shop.status(order_id), f"bookshelf trace {order_id}")
        console.print(table)
    console.print(
        f"Poison record on catalog.books: {'published' if published else 'already there'}; "
        "see it with `bookshelf dlq list --topic catalog.books`, then `bookshelf dlq inspect ID`."
    )
    console.print(f"Watch it all in the observatory: {service_url('observatory')}/")
