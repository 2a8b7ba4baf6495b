"""The dashboard's dead-letter actions (issue 16, item 5): a topic purge closes exactly the entries
staff saw, and an entry without its whole record is refused a replay with what to do instead."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from bookshelf_contracts import OrderConfirmed
from bookshelf_infra.testing import eventually
from bookshelf_messaging import DeadLetterStore, build_dead_letter
from bookshelf_messaging.dlq import Failure, truncated

from .conftest import STAFF, ObservatoryIT


async def _indexed_open(obs: ObservatoryIT, entry_id: str) -> bool:
    answer = await obs.staff.get(f"/api/dead-letters/{entry_id}")
    return answer.status_code == 200 and bool(answer.json()["open"])


async def _dead_letter(obs: ObservatoryIT) -> str:
    _, record = await obs.send(obs.orders, OrderConfirmed(order_id=uuid4(), version=2), correlation_id="c")
    entry_id = await obs.dead_letter(record, "storefront.orders")
    await eventually(lambda: _indexed_open(obs, entry_id), timeout=30, message="dead letter indexed")
    return entry_id


async def test_a_topic_purge_closes_exactly_the_entries_shown(observatory_it: ObservatoryIT) -> None:
    shown = [await _dead_letter(observatory_it), await _dead_letter(observatory_it)]
    arrived = await _dead_letter(observatory_it)  # listed after staff looked at the page

    answer = await observatory_it.http.post(
        f"/api/dead-letter-topics/{observatory_it.orders}/purge", headers=STAFF, json={"entry_ids": shown}
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"topic": f"{observatory_it.orders}.dlq", "closed": 2}
    for entry_id in shown:
        assert not await _indexed_open(observatory_it, entry_id)
    assert await _indexed_open(observatory_it, arrived)
    store = DeadLetterStore(observatory_it.kafka)
    assert [e.entry_id for e in store.list_open(observatory_it.orders)] == [arrived]


async def test_a_cut_entry_is_refused_a_replay_then_replayed_from_its_original_offset(
    observatory_it: ObservatoryIT,
) -> None:
    _, record = await observatory_it.send(
        observatory_it.orders, OrderConfirmed(order_id=uuid4(), version=2), correlation_id="cut"
    )
    # The letter of a record too large for the DLQ topic: written with its value cut.
    now = datetime.now(UTC)
    big = replace(record, value=b"x" * 100_000)
    cut = truncated(build_dead_letter(big, "storefront.orders", Failure(ValueError("no"), 1, now, now)))
    await observatory_it.producer.send_and_wait(
        cut.topic, value=cut.value, key=cut.key.encode(), headers=cut.headers
    )
    await eventually(lambda: _indexed_open(observatory_it, cut.key), timeout=30, message="indexed")

    answer = await observatory_it.http.post(f"/api/dead-letters/{cut.key}/replay", headers=STAFF)

    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert "100000 bytes (dlq.value_truncated)" in detail
    assert f"{observatory_it.orders} partition {record.partition} offset {record.offset}" in detail
    assert await _indexed_open(observatory_it, cut.key)

    # The whole record is still on its topic: replayed from there, the entry closes.
    whole = await observatory_it.http.post(
        f"/api/dead-letters/{cut.key}/replay", params={"from_original": "true"}, headers=STAFF
    )
    assert whole.status_code == 200, whole.text
    copies = await observatory_it.indexed(
        2, "correlation_id = :cid AND topic = :t", cid="cut", t=observatory_it.orders
    )
    assert sorted(r.replay_count for r in copies) == [0, 1]
    assert {r.size for r in copies} == {len(record.value)}  # the whole record, not the cut letter
    assert not await _indexed_open(observatory_it, cut.key)
