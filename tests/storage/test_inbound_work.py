"""Kept inbound work (``inbound_work``): one row per new delivery, sealed at rest, leased, and
taken by one process at a time. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.durable import InboundQueue, decode, encode
from handlers.base.events import Actor, Event, FormSubmit, Press, TypedText
from storage import crypto, inbound_work
from storage.db import Database

SAM = Actor(platform="slack", org="T0001", user_id="U0SAM", name="sam")
WORDS = "She told me she is frightened at night"


@pytest.fixture(autouse=True)
def _no_key_after() -> Iterator[None]:
    yield
    crypto.configure(None)


def queue(db: Database, lease: float = 30.0) -> InboundQueue:
    return InboundQueue(db, "slack", lease)


async def test_a_repeated_delivery_key_is_kept_once_in_a_batch_or_later(db: Database) -> None:
    q = queue(db)
    press = Press(SAM, "dlg.answer", "7:q1:yes")
    first, again_at_once = await asyncio.gather(
        q.put(press, {}, "slack:action:1"), q.put(press, {}, "slack:action:1")
    )
    later = await q.put(press, {}, "slack:action:1")
    other = await q.put(press, {}, "slack:action:2")

    assert [first is None, again_at_once is None].count(True) == 1  # one of the two, not both
    assert later is None and other is not None
    assert await inbound_work.waiting(db) == 2


async def test_what_someone_typed_is_sealed_at_rest_and_read_back_whole(db: Database) -> None:
    crypto.configure(crypto.new_key())
    event = TypedText(SAM, WORDS, channel_id="D0SAM")
    q = queue(db)
    await q.put(event, {"channel_id": "D0SAM", "data": {"is_direct": True}}, "slack:event:Ev1")
    async with db.read() as s:
        conn = await s.connection()
        [stored] = (await conn.execute(text("SELECT payload FROM inbound_work"))).scalars()

    assert stored.startswith("fernet:") and "frightened" not in stored and "U0SAM" not in stored
    assert decode(crypto.unseal(stored)) == (
        event,
        {"channel_id": "D0SAM", "data": {"is_direct": True}},
    )


def test_every_kind_of_event_survives_the_round_trip() -> None:
    events: list[Event] = [
        Press(SAM, "dlg.answer", "7:q1:yes", channel_id="D1"),
        FormSubmit(SAM, "close", {"notes": WORDS, "who": ["U1", "U2"], "ok": True, "d": None}, "9"),
        TypedText(SAM, WORDS),
    ]
    for event in events:
        assert decode(encode(event, {"k": 1})) == (event, {"k": 1})


async def test_work_is_taken_over_only_after_its_lease_and_then_by_one_process(
    db: Database,
) -> None:
    dead = queue(db, lease=2)  # the process that acknowledged, then died
    ids = {await dead.put(Press(SAM, "dlg.answer", f"{n}:q:yes"), {}, f"k{n}") for n in range(6)}
    other = Database(db.url)  # a second process: its own connections
    alive = [queue(db, lease=30), queue(other, lease=30)]
    taken: list[int] = []

    async def take(q: InboundQueue) -> int:
        async def resume(work_id: int, _event: Event, _reply: dict[str, object]) -> None:
            taken.append(work_id)

        return await q.take_once(resume)

    try:
        assert [await take(q) for q in alive] == [0, 0]  # the lease still holds
        await asyncio.sleep(2.2)
        await asyncio.gather(*(take(q) for q in alive))
    finally:
        await other.dispose()

    assert sorted(taken) == sorted(i for i in ids if i is not None)  # every row, none twice
    assert len(ids) == 6
    # Had the first process only been slow, it now finds out before doing the work twice.
    assert not await dead.still_ours(min(i for i in ids if i is not None))
