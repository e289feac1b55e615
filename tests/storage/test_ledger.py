"""The delivery ledger: each row planned once, claimed by one sender, retried, dead-lettered."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage import ledger
from storage.db import Database
from storage.ledger import Planned
from tests.factories.ledger import ledger_rows
from tests.factories.scenarios import org_and_group

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def org_and_group_ids(db: Database) -> tuple[int, int]:
    group = await org_and_group(db)
    return group.org_id, group.id or 0


def row(org_id: int, group_id: int, key: str, due: datetime = NOW) -> Planned:
    return Planned(key, org_id, "nudge", due, group_id=group_id)


async def test_planning_the_same_key_twice_keeps_one_row(db):
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        assert await ledger.insert_new(s, [row(org_id, group_id, "nudge:1:a")]) == 1
    async with db.write() as s:
        inserted = await ledger.insert_new(
            s, [row(org_id, group_id, "nudge:1:a"), row(org_id, group_id, "nudge:1:b")]
        )
    assert inserted == 1
    assert [r.key for r in await ledger_rows(db)] == ["nudge:1:a", "nudge:1:b"]


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(db):
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        await ledger.insert_new(s, [row(org_id, group_id, "k1")])
    first = await ledger.claim(db, NOW)
    assert [(r.key, r.status, r.attempts) for r in first] == [("k1", "sending", 1)]
    assert first[0].lease_until == NOW + ledger.LEASE
    assert await ledger.claim(db, NOW + timedelta(minutes=1)) == []
    # The sender crashed: after the lease another sweep takes it, as a second attempt.
    again = await ledger.claim(db, NOW + timedelta(minutes=3))
    assert [(r.key, r.attempts) for r in again] == [("k1", 2)]
    # The crashed sender coming back late cannot mark it: the claim is no longer its own.
    await ledger.mark_sent(db, first[0], NOW, "late")
    assert (await ledger_rows(db))[0].status == "sending"
    await ledger.mark_sent(db, again[0], NOW + timedelta(minutes=3), '{"ts":"1"}')
    done = (await ledger_rows(db))[0]
    assert (done.status, done.sent_ref) == ("sent", '{"ts":"1"}')
    assert await ledger.claim(db, NOW + timedelta(hours=1)) == []


async def test_rows_not_yet_due_wait(db):
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        await ledger.insert_new(s, [row(org_id, group_id, "later", NOW + timedelta(hours=1))])
    assert await ledger.claim(db, NOW) == []
    assert [r.key for r in await ledger.claim(db, NOW + timedelta(hours=1))] == ["later"]


async def test_retry_after_pushes_the_row_back_without_using_up_attempts(db):
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        await ledger.insert_new(s, [row(org_id, group_id, "k")])
    (claimed,) = await ledger.claim(db, NOW)
    assert await ledger.mark_failed(db, claimed, NOW, "ratelimited", retry_after=30) == "pending"
    stored = (await ledger_rows(db))[0]
    assert stored.due_at == NOW + timedelta(seconds=30)
    assert (stored.attempts, stored.last_error) == (0, "ratelimited")
    assert await ledger.claim(db, NOW + timedelta(seconds=29)) == []
    assert len(await ledger.claim(db, NOW + timedelta(seconds=30))) == 1


async def test_failures_back_off_then_dead_letter_after_five_attempts(db):
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        await ledger.insert_new(s, [row(org_id, group_id, "k")])
    at = NOW
    statuses = []
    for _ in range(ledger.MAX_ATTEMPTS):
        (claimed,) = await ledger.claim(db, at)
        statuses.append(await ledger.mark_failed(db, claimed, at, "channel_not_found"))
        stored = (await ledger_rows(db))[0]
        at = max(at, stored.due_at)
    assert statuses == ["pending"] * 4 + ["dead"]
    assert await ledger.claim(db, at + timedelta(days=1)) == []


async def test_cancel_pending_cancels_only_unsent_rows_of_the_group(db):
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        await ledger.insert_new(
            s,
            [
                row(org_id, group_id, "flying", NOW - timedelta(minutes=1)),
                row(org_id, group_id, "old"),
                row(org_id, group_id, "keep"),
            ],
        )
    (flying,) = await ledger.claim(db, NOW, limit=1)
    assert flying.key == "flying"
    async with db.write() as s:
        assert await ledger.cancel_pending(s, kind="nudge", group_id=group_id, keep=["keep"]) == 1
    status = {r.key: r.status for r in await ledger_rows(db)}
    assert status == {"flying": "sending", "old": "cancelled", "keep": "pending"}


async def test_two_instances_claiming_at_once_never_share_a_row(db):
    if db.is_sqlite:
        pytest.skip("one instance on SQLite; row locks are PostgreSQL's")
    org_id, group_id = await org_and_group_ids(db)
    async with db.write() as s:
        await ledger.insert_new(s, [row(org_id, group_id, f"k{i}") for i in range(40)])
    other = Database(db.url)
    try:
        claims = await asyncio.gather(
            *(ledger.claim(d, NOW, limit=7) for d in (db, other, db, other, db, other, db))
        )
    finally:
        await other.dispose()
    keys = [r.key for batch in claims for r in batch]
    assert len(keys) == len(set(keys)) == 40
