"""Nudges in the group's channel: when each comes due, what it says, and snooze; with a
hand-moved clock, on SQLite and PostgreSQL."""

from datetime import date, datetime

import pytest

from handlers.base.errors import NotAllowed
from handlers.base.events import Actor
from handlers.base.messages import Buttons, Mention, Post, Reply
from handlers.scheduling import channel_nudges
from handlers.scheduling.deliveries import Drop, Later, Send
from handlers.scheduling.due import add_months
from handlers.scheduling.kinds import render
from storage.models import (
    CoreGroup,
)
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import ledger_statuses as rows
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import add_session, at
from tests.factories.scenarios import one_core_group as world
from tests.factories.scenarios import set_languages as speaks

# ---- nudges -----------------------------------------------------------------------------------


async def test_ahead_nudge_names_the_child_the_date_the_reason_and_the_facilitator(core):
    group = await world(core)  # registered 20 Jan: due Mon 20 Apr; ahead 6 Apr = Easter Monday
    assert await keys(core, at(2026, 4, 6)) == []
    now = at(2026, 4, 7, 9, 30)
    (key,) = await keys(core, now)
    assert key == f"nudge:{group.id}:2026-04-20:ahead"
    decision = await render(core, await row(core, key), now)
    assert isinstance(decision, Send)
    (post,) = decision.intents
    assert isinstance(post, Post) and post.channel_id == "C_GROUP"
    assert post.message.text.startswith(
        "Core group supervision for AB-1234 is due on Mon 20 Apr (3 months after registration)."
    )
    assert Mention("U_RO", "Rita") in post.message.blocks[1].spans  # type: ignore[union-attr]
    (buttons,) = [b for b in post.message.blocks if isinstance(b, Buttons)]
    assert [(b.label, b.action, b.value) for b in buttons.buttons] == [
        ("Start now", "reflect.start", str(group.id)),
        ("Pick a date", "schedule.plan", str(group.id)),
        ("Snooze a week", "schedule.snooze", str(group.id)),
    ]
    assert "Rita, start it with /reflect or pick a date." in post.message.text


async def test_on_the_day_and_overdue_wording(core):
    group = await world(core)
    now = at(2026, 4, 20)
    (key,) = await keys(core, now)
    assert key.endswith(":due")
    decision = await render(core, await row(core, key), now)
    assert isinstance(decision, Send)
    assert "is due today (3 months after registration)" in decision.intents[0].message.text
    later = at(2026, 5, 5)  # Monday 4 May is a bank holiday: the nudge waits a day
    (key,) = await keys(core, later)
    assert key == f"nudge:{group.id}:2026-04-20:overdue2"
    decision = await render(core, await row(core, key), later)
    assert isinstance(decision, Send)
    assert "was due on Mon 20 Apr (3 months after registration) and is now 15 days overdue" in (
        decision.intents[0].message.text
    )


async def test_planning_again_adds_nothing(core):
    await world(core)
    assert len(await keys(core, at(2026, 4, 20))) == 1
    assert await keys(core, at(2026, 4, 20, 11)) == []


async def test_a_newer_nudge_supersedes_an_unsent_older_one(core):
    group = await world(core)
    await keys(core, at(2026, 4, 7))
    await keys(core, at(2026, 4, 20))
    assert await rows(core) == {
        f"nudge:{group.id}:2026-04-20:ahead": "cancelled",
        f"nudge:{group.id}:2026-04-20:due": "pending",
    }


async def test_changing_the_registration_date_cancels_the_old_nudge(core):
    group = await world(core)
    await keys(core, at(2026, 4, 7))
    async with core.db.write() as s:
        g = await s.get(CoreGroup, group.id)
        g.registered_on = date(2026, 1, 27)  # due Mon 27 Apr, ahead Mon 13 Apr
        s.add(g)
    assert await keys(core, at(2026, 4, 8)) == []
    assert await rows(core) == {f"nudge:{group.id}:2026-04-20:ahead": "cancelled"}
    assert await keys(core, at(2026, 4, 13)) == [f"nudge:{group.id}:2026-04-27:ahead"]


async def test_a_row_for_an_old_date_is_dropped_when_it_comes_to_be_sent(core):
    group = await world(core)
    await keys(core, at(2026, 4, 7))
    async with core.db.write() as s:
        g = await s.get(CoreGroup, group.id)
        g.registered_on = date(2025, 6, 1)  # far outside this sweep's window
        s.add(g)
    decision = await render(
        core, await row(core, f"nudge:{group.id}:2026-04-20:ahead"), at(2026, 4, 7, 11)
    )
    assert isinstance(decision, Drop)


async def test_an_ended_plan_gets_nothing(core):
    group = await world(core)
    await keys(core, at(2026, 4, 20))
    async with core.db.write() as s:
        g = await s.get(CoreGroup, group.id)
        g.status = "ended"
        s.add(g)
    assert await keys(core, at(2026, 4, 28)) == []
    decision = await render(
        core, await row(core, f"nudge:{group.id}:2026-04-20:due"), at(2026, 4, 20, 11)
    )
    assert isinstance(decision, Drop)


async def test_pre_birth_is_quiet_until_the_review_conference_date_is_known(core):
    group = await world(core, pre_birth=True, registered_on=date(2026, 1, 5))
    assert await keys(core, at(2026, 4, 6, 12)) == []
    async with core.db.write() as s:
        g = await s.get(CoreGroup, group.id)
        g.rcppm_on = date(2026, 1, 22)  # due Wed 22 Apr
        s.add(g)
    now = at(2026, 4, 22)
    (key,) = await keys(core, now)
    decision = await render(core, await row(core, key), now)
    assert isinstance(decision, Send)
    assert "(3 months after the review conference)" in decision.intents[0].message.text


async def test_a_held_supervision_stops_the_nudges_until_the_next_one(core):
    group = await world(core)
    async with core.db.write() as s:
        await add_session(s, group, opened_at=at(2026, 4, 14), closed_at=at(2026, 4, 16))
    assert await keys(core, at(2026, 4, 20)) == []
    # The next one: 9 months after registration, Tue 20 Oct; ahead on Tue 6 Oct.
    assert await keys(core, at(2026, 10, 6)) == [f"nudge:{group.id}:2026-10-20:ahead"]


async def test_last_held_anchor_counts_six_months_from_the_last_session(core):
    group = await world(core, schedule_anchor="last_held")
    async with core.db.write() as s:
        await add_session(s, group, opened_at=at(2026, 5, 4), closed_at=at(2026, 5, 6))
    assert await keys(core, at(2026, 10, 20)) == []
    assert await keys(core, at(2026, 11, 6)) == [f"nudge:{group.id}:2026-11-06:due"]


async def test_weekend_nudges_wait_for_monday_morning(core):
    group = await world(core, registered_on=date(2026, 1, 25))  # due Sat 25 Apr
    saturday = at(2026, 4, 25, 12)
    # On the due date itself only the "ahead" nudge (Sat 11th, rolled to Mon 13th) applies;
    # the "due" nudge rolls to Monday 27th.
    assert await keys(core, saturday) == [f"nudge:{group.id}:2026-04-25:ahead"]
    pending = await row(core, f"nudge:{group.id}:2026-04-25:ahead")
    assert pending.due_at == at(2026, 4, 27, 8)  # Monday 09:00 BST
    assert isinstance(await render(core, pending, saturday), Later)
    assert await keys(core, at(2026, 4, 27, 8)) == [f"nudge:{group.id}:2026-04-25:due"]


async def test_a_nudge_missed_on_friday_goes_out_on_monday_not_at_the_weekend(core):
    group = await world(core, registered_on=date(2026, 1, 24))  # due Fri 24 Apr
    saturday = at(2026, 4, 25, 12)
    assert await keys(core, saturday) == [f"nudge:{group.id}:2026-04-24:due"]
    pending = await row(core, f"nudge:{group.id}:2026-04-24:due")
    assert pending.due_at == at(2026, 4, 27, 8)
    decision = await render(core, pending, at(2026, 4, 27, 8))
    assert isinstance(decision, Send)
    assert "was due on Fri 24 Apr" in decision.intents[0].message.text


async def test_the_week_the_clocks_change_keeps_nine_o_clock_local(core):
    group = await world(core, registered_on=date(2026, 1, 13))  # due 13 Apr, ahead Mon 30 Mar
    assert await keys(core, at(2026, 3, 29, 12)) == []
    await keys(core, at(2026, 3, 30, 7, 30))  # 08:30 BST: planned for opening time
    pending = await row(core, f"nudge:{group.id}:2026-04-13:ahead")
    assert pending.due_at == at(2026, 3, 30, 8, 0)
    assert isinstance(await render(core, pending, at(2026, 3, 30, 7, 59)), Later)
    assert isinstance(await render(core, pending, at(2026, 3, 30, 8, 0)), Send)


def noon(day: date) -> datetime:
    return at(day.year, day.month, day.day, 11)


@pytest.mark.parametrize(
    ("nation", "holiday", "next_day"),
    [
        ("SCT", date(2026, 11, 30), date(2026, 12, 1)),  # St Andrew's Day
        ("NIR", date(2026, 3, 17), date(2026, 3, 18)),  # St Patrick's Day
        ("ENG", date(2026, 4, 6), date(2026, 4, 7)),  # Easter Monday
        ("WLS", date(2026, 4, 6), date(2026, 4, 7)),
        ("NIR", date(2026, 4, 6), date(2026, 4, 7)),
        ("SCT", date(2026, 1, 2), date(2026, 1, 5)),  # 2 January, then the weekend
    ],
)
async def test_no_nudge_on_the_nations_bank_holidays(core, nation, holiday, next_day):
    group = await world(core, nation=nation, registered_on=add_months(holiday, -3))
    due_key = f"nudge:{group.id}:{holiday.isoformat()}:due"
    assert due_key not in await keys(core, noon(holiday))
    assert due_key in await keys(core, noon(next_day))


@pytest.mark.parametrize(
    ("nation", "day"),
    [
        ("ENG", date(2026, 11, 30)),  # St Andrew's Day is a working day outside Scotland
        ("WLS", date(2026, 3, 17)),  # St Patrick's Day outside Northern Ireland
        ("SCT", date(2026, 4, 6)),  # Easter Monday is a working day in Scotland
        ("ENG", date(2026, 1, 2)),
    ],
)
async def test_other_nations_holidays_are_ordinary_working_days(core, nation, day):
    group = await world(core, nation=nation, registered_on=add_months(day, -3))
    assert await keys(core, noon(day)) == [f"nudge:{group.id}:{day.isoformat()}:due"]


async def test_snooze_is_for_the_facilitator_and_quietens_the_channel_for_a_week(core, clock):
    group = await world(core)
    clock.at = at(2026, 4, 20)
    await keys(core, clock.at)
    with pytest.raises(NotAllowed):
        await channel_nudges.snooze(core, Actor("fake", "T1", "U_SW"), group.id)
    (reply,) = await channel_nudges.snooze(core, Actor("fake", "T1", "U_RO"), group.id)
    assert isinstance(reply, Reply)
    assert reply.message.text == "Snoozed. I'll remind this channel again on Mon 27 Apr."
    assert set((await rows(core)).values()) == {"cancelled"}
    assert await keys(core, at(2026, 4, 22)) == []
    assert await keys(core, at(2026, 4, 27)) == [f"nudge:{group.id}:2026-04-20:overdue1"]


async def test_someone_from_another_organisation_cannot_snooze(core):
    group = await world(core)
    with pytest.raises(Exception) as caught:
        await channel_nudges.snooze(core, Actor("fake", "T_OTHER", "U_RO"), group.id)
    assert caught.type.__name__ in ("NotFound", "NotAllowed")


async def test_nudging_stops_after_six_overdue_weeks(core):
    await world(core)
    assert (await keys(core, at(2026, 6, 1)))[0].endswith("overdue6")
    assert await keys(core, at(2026, 6, 9)) == []


async def test_no_nudge_while_the_supervision_is_under_way(core):
    group = await world(core)
    async with core.db.write() as s:
        await add_session(s, group, opened_at=at(2026, 4, 20, 9))
    assert [k for k in await keys(core, at(2026, 4, 20)) if k.startswith("nudge")] == []


# ---- in the reader's language -------------------------------------------------------------------


async def test_a_welsh_organisations_channel_nudge_is_in_welsh_with_welsh_dates(core):
    group = await world(core)
    await speaks(core, group, org="cy")
    now = at(2026, 4, 7, 9, 30)
    (key,) = await keys(core, now)
    decision = await render(core, await row(core, key), now)
    assert isinstance(decision, Send)
    (post,) = decision.intents
    assert post.message.text.startswith(
        "Mae goruchwyliaeth grŵp craidd ar gyfer AB-1234 yn ddyledus ar Llun 20 Ebr"
        " (3 mis ar ôl cofrestru)."
    )
    assert "dechreuwch hi gyda /reflect" in post.message.text
    assert Mention("U_RO", "Rita") in post.message.blocks[1].spans  # type: ignore[union-attr]
    (buttons,) = [b for b in post.message.blocks if isinstance(b, Buttons)]
    assert [(b.label, b.action) for b in buttons.buttons] == [
        ("Dechrau nawr", "reflect.start"),
        ("Dewis dyddiad", "schedule.plan"),
        ("Gohirio am wythnos", "schedule.snooze"),
    ]
    later = at(2026, 5, 5)
    (key,) = await keys(core, later)
    decision = await render(core, await row(core, key), later)
    assert isinstance(decision, Send)
    assert "Mae bellach 15 diwrnod yn hwyr." in decision.intents[0].message.text


async def test_the_snooze_reply_follows_the_reader(core, clock):
    group = await world(core)
    await speaks(core, group, people={"U_RO": "cy"})
    clock.at = at(2026, 4, 20)
    (reply,) = await channel_nudges.snooze(core, Actor("fake", "T1", "U_RO"), group.id)
    assert reply.message.text == "Wedi gohirio. Fe wna i atgoffa'r sianel hon eto ar Llun 27 Ebr."
