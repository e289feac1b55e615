"""Which nudges and reminders come due, and what each one says: plan() and render() with a
hand-moved clock, on SQLite and PostgreSQL."""

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from handlers.base.errors import NotAllowed
from handlers.base.events import Actor
from handlers.base.messages import Buttons, Direct, Mention, Post, Reply
from handlers.scheduling import reminders
from handlers.scheduling.due import DEFAULT_RULES, add_months
from handlers.scheduling.reminders import Drop, Later, Send
from storage.models import (
    ActionItem,
    Answer,
    CoreGroup,
    Delivery,
    Member,
    Organisation,
    OrgRole,
    Participation,
    ParticipationState,
    PersonPreference,
    ReflectionSession,
    SessionStatus,
    StaffRole,
)
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import ledger_statuses as rows
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import at
from tests.factories.scenarios import member_id, open_session
from tests.factories.scenarios import one_core_group as world

# ---- nudges -----------------------------------------------------------------------------------


async def test_ahead_nudge_names_the_child_the_date_the_reason_and_the_facilitator(core):
    group = await world(core)  # registered 20 Jan: due Mon 20 Apr; ahead 6 Apr = Easter Monday
    assert await keys(core, at(2026, 4, 6)) == []
    now = at(2026, 4, 7, 9, 30)
    (key,) = await keys(core, now)
    assert key == f"nudge:{group.id}:2026-04-20:ahead"
    decision = await reminders.render(core, await row(core, key), now)
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
    decision = await reminders.render(core, await row(core, key), now)
    assert isinstance(decision, Send)
    assert "is due today (3 months after registration)" in decision.intents[0].message.text
    later = at(2026, 5, 5)  # Monday 4 May is a bank holiday: the nudge waits a day
    (key,) = await keys(core, later)
    assert key == f"nudge:{group.id}:2026-04-20:overdue2"
    decision = await reminders.render(core, await row(core, key), later)
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
    decision = await reminders.render(
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
    decision = await reminders.render(
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
    decision = await reminders.render(core, await row(core, key), now)
    assert isinstance(decision, Send)
    assert "(3 months after the review conference)" in decision.intents[0].message.text


async def test_a_held_supervision_stops_the_nudges_until_the_next_one(core):
    group = await world(core)
    async with core.db.write() as s:
        s.add(
            ReflectionSession(
                group_id=group.id,
                set_id="appendix1",
                set_version=1,
                opened_by="U_RO",
                status=SessionStatus.CLOSED,
                opened_at=at(2026, 4, 14),
                closed_at=at(2026, 4, 16),
            )
        )
    assert await keys(core, at(2026, 4, 20)) == []
    # The next one: 9 months after registration, Tue 20 Oct; ahead on Tue 6 Oct.
    assert await keys(core, at(2026, 10, 6)) == [f"nudge:{group.id}:2026-10-20:ahead"]


async def test_last_held_anchor_counts_six_months_from_the_last_session(core):
    group = await world(core, schedule_anchor="last_held")
    async with core.db.write() as s:
        s.add(
            ReflectionSession(
                group_id=group.id,
                set_id="appendix1",
                set_version=1,
                opened_by="U_RO",
                status=SessionStatus.CLOSED,
                opened_at=at(2026, 5, 4),
                closed_at=at(2026, 5, 6),
            )
        )
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
    assert isinstance(await reminders.render(core, pending, saturday), Later)
    assert await keys(core, at(2026, 4, 27, 8)) == [f"nudge:{group.id}:2026-04-25:due"]


async def test_a_nudge_missed_on_friday_goes_out_on_monday_not_at_the_weekend(core):
    group = await world(core, registered_on=date(2026, 1, 24))  # due Fri 24 Apr
    saturday = at(2026, 4, 25, 12)
    assert await keys(core, saturday) == [f"nudge:{group.id}:2026-04-24:due"]
    pending = await row(core, f"nudge:{group.id}:2026-04-24:due")
    assert pending.due_at == at(2026, 4, 27, 8)
    decision = await reminders.render(core, pending, at(2026, 4, 27, 8))
    assert isinstance(decision, Send)
    assert "was due on Fri 24 Apr" in decision.intents[0].message.text


async def test_the_week_the_clocks_change_keeps_nine_o_clock_local(core):
    group = await world(core, registered_on=date(2026, 1, 13))  # due 13 Apr, ahead Mon 30 Mar
    assert await keys(core, at(2026, 3, 29, 12)) == []
    await keys(core, at(2026, 3, 30, 7, 30))  # 08:30 BST: planned for opening time
    pending = await row(core, f"nudge:{group.id}:2026-04-13:ahead")
    assert pending.due_at == at(2026, 3, 30, 8, 0)
    assert isinstance(await reminders.render(core, pending, at(2026, 3, 30, 7, 59)), Later)
    assert isinstance(await reminders.render(core, pending, at(2026, 3, 30, 8, 0)), Send)


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
        await reminders.snooze(core, Actor("fake", "T1", "U_SW"), group.id)
    (reply,) = await reminders.snooze(core, Actor("fake", "T1", "U_RO"), group.id)
    assert isinstance(reply, Reply)
    assert reply.message.text == "Snoozed. I'll remind this channel again on Mon 27 Apr."
    assert set((await rows(core)).values()) == {"cancelled"}
    assert await keys(core, at(2026, 4, 22)) == []
    assert await keys(core, at(2026, 4, 27)) == [f"nudge:{group.id}:2026-04-20:overdue1"]


async def test_someone_from_another_organisation_cannot_snooze(core):
    group = await world(core)
    with pytest.raises(Exception) as caught:
        await reminders.snooze(core, Actor("fake", "T_OTHER", "U_RO"), group.id)
    assert caught.type.__name__ in ("NotFound", "NotAllowed")


async def test_long_overdue_is_reported_to_each_lead_officer_without_the_child(core):
    group = await world(core, leads=("U_LEAD", "U_LEAD2"))
    assert not [k for k in await keys(core, at(2026, 5, 15)) if k.startswith("report")]
    now = at(2026, 5, 18)  # 28 days overdue
    planned = [k for k in await keys(core, now) if k.startswith("report")]
    assert len(planned) == 2
    decision = await reminders.render(core, await row(core, planned[0]), now)
    assert isinstance(decision, Send)
    (dm,) = decision.intents
    assert isinstance(dm, Direct) and dm.user_id in ("U_LEAD", "U_LEAD2")
    assert dm.message.text == (
        f"A core group in your organisation (group #{group.id}) is 28 days past its supervision "
        "date. The facilitator is Rita."
    )
    assert "AB-1234" not in repr(dm.message)
    assert not [k for k in await keys(core, at(2026, 5, 19)) if k.startswith("report")]


async def test_nudging_stops_after_six_overdue_weeks(core):
    await world(core)
    assert (await keys(core, at(2026, 6, 1)))[0].endswith("overdue6")
    assert await keys(core, at(2026, 6, 9)) == []


# ---- reminders to members -----------------------------------------------------------------------


async def test_outstanding_lists_who_has_not_submitted(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    assert [m.user_id for m in await reminders.outstanding(core, session.id)] == ["U_RO", "U_SW"]


async def test_two_reminders_then_a_personal_third_then_stop(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)  # Mon 2 Mar 10:00
    sw, ro = await member_id(core, "U_SW"), await member_id(core, "U_RO")
    assert await keys(core, at(2026, 3, 3, 9, 59)) == []
    assert await keys(core, at(2026, 3, 3, 10)) == sorted(
        [f"remind:{session.id}:{sw}:1", f"remind:{session.id}:{ro}:1"]
    )
    assert len(await keys(core, at(2026, 3, 4, 10))) == 2
    async with core.db.write() as s:
        for q in ("risks_current", "new_risks", "plan_working"):
            s.add(Answer(session_id=session.id, member_id=ro, question_id=q, choice="yes"))
    now = at(2026, 3, 5, 10)
    third = await keys(core, now)
    assert third == sorted([f"remind:{session.id}:{sw}:3", f"remind:{session.id}:{ro}:3"])
    sent = {}
    for key in third:
        decision = await reminders.render(core, await row(core, key), now)
        assert isinstance(decision, Send)
        (dm,) = decision.intents
        sent[dm.user_id] = dm.message.text
    assert "You have 11 questions left, about 8 minutes." in sent["U_RO"]
    assert "You have 14 questions left, about 10 minutes." in sent["U_SW"]
    assert await keys(core, at(2026, 3, 6, 10)) == []
    assert await keys(core, at(2026, 3, 10, 10)) == []


async def test_first_reminders_are_not_personal_and_point_at_the_questions(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group, closes_at=at(2026, 3, 6, 14))
    sw = await member_id(core, "U_SW")
    now = at(2026, 3, 3, 10)
    await keys(core, now)
    decision = await reminders.render(core, await row(core, f"remind:{session.id}:{sw}:1"), now)
    assert isinstance(decision, Send)
    (dm,) = decision.intents
    assert dm.user_id == "U_SW"
    assert dm.message.text.startswith(
        "Core group supervision for AB-1234 is open until Fri 6 Mar 14:00."
    )
    assert "questions left" not in dm.message.text
    (buttons,) = [b for b in dm.message.blocks if isinstance(b, Buttons)]
    assert buttons.buttons[0].action == "dlg.start"


async def test_members_on_leave_are_not_chased(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    async with core.db.write() as s:
        sam = (await s.exec(select(Member).where(Member.user_id == "U_SW"))).one()
        sam.on_leave_until = date(2026, 3, 3)
        s.add(sam)
    assert [k for k in await keys(core, at(2026, 3, 3, 10)) if f":{sam.id}:" in k] == []
    assert await keys(core, at(2026, 3, 4, 10)) == sorted(
        [
            f"remind:{session.id}:{sam.id}:2",
            f"remind:{session.id}:{await member_id(core, 'U_RO')}:2",
        ]
    )


def times(session) -> list[str]:
    cal = reminders.calendar_for(None)
    return [t.isoformat()[:16] for t in reminders.reminder_times(session, cal)]


async def test_the_third_reminder_comes_in_good_time_before_the_close(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    # Opened Monday 10:00, open until Thursday 14:00: a reminder each working day.
    session = await open_session(core, group, closes_at=at(2026, 3, 5, 14))
    assert times(session) == ["2026-03-03T10:00", "2026-03-04T10:00", "2026-03-05T10:00"]
    # Open only until Thursday 10:00: the last one goes on Wednesday afternoon instead.
    session.closes_at = at(2026, 3, 5, 10)
    assert times(session) == ["2026-03-03T10:00", "2026-03-04T10:00", "2026-03-04T16:30"]
    # Open until Tuesday 11:00: just one reminder, at 09:00 on Tuesday.
    session.closes_at = at(2026, 3, 3, 11)
    assert times(session) == ["2026-03-03T09:00"]


async def test_nothing_is_sent_in_the_last_hour_before_the_close(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group, closes_at=at(2026, 3, 5, 14))
    assert [k[-1] for k in await keys(core, at(2026, 3, 5, 10))] == ["3", "3"]
    async with core.db.write() as s:
        for r in await s.exec(select(Delivery)):
            await s.delete(r)
    assert await keys(core, at(2026, 3, 5, 13, 1)) == []
    sw = await member_id(core, "U_SW")
    stale = Delivery(
        key=f"remind:{session.id}:{sw}:3",
        org_id=group.org_id,
        kind="remind",
        session_id=session.id,
        member_id=sw,
        due_at=at(2026, 3, 5, 10),
    )
    assert isinstance(await reminders.render(core, stale, at(2026, 3, 5, 13, 1)), Drop)


async def test_a_reminder_for_someone_who_has_since_answered_is_dropped(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    sw = await member_id(core, "U_SW")
    await keys(core, at(2026, 3, 3, 10))
    async with core.db.write() as s:
        part = (await s.exec(select(Participation).where(Participation.member_id == sw))).one()
        part.state = ParticipationState.DONE
        s.add(part)
    decision = await reminders.render(
        core, await row(core, f"remind:{session.id}:{sw}:1"), at(2026, 3, 3, 10, 1)
    )
    assert isinstance(decision, Drop)


# ---- actions ------------------------------------------------------------------------------------


async def test_action_owner_hears_two_working_days_before_and_on_the_day(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    sw = await member_id(core, "U_SW")
    async with core.db.write() as s:
        action = ActionItem(
            session_id=session.id,
            group_id=group.id,
            owner_member_id=sw,
            text="Ask school about attendance",
            due_on=date(2026, 3, 16),
        )
        s.add(action)
        await s.flush()
        action_id = action.id
    assert not [k for k in await keys(core, at(2026, 3, 11, 10)) if k.startswith("action")]
    # Two working days before Monday 16th is Thursday 12th.
    assert [k for k in await keys(core, at(2026, 3, 12, 10)) if k.startswith("action")] == [
        f"action:{action_id}:before"
    ]
    now = at(2026, 3, 16, 10)
    assert [k for k in await keys(core, now) if k.startswith("action")] == [
        f"action:{action_id}:due"
    ]
    decision = await reminders.render(core, await row(core, f"action:{action_id}:due"), now)
    assert isinstance(decision, Send)
    (dm,) = decision.intents
    assert dm.user_id == "U_SW"
    assert "an action from core group supervision for AB-1234 is yours, due today" in (
        dm.message.text
    )
    assert "Ask school about attendance" in dm.message.text


# ---- the planner's bookmark (next_check_on) -----------------------------------------------------


async def checked_groups(core, now) -> set[int]:
    async with core.db.read() as s:
        return {g.id for g in await reminders._groups_to_check(s, now)}


async def test_a_group_bookmarked_for_later_is_skipped_until_its_dates_change(core):
    group = await world(core)  # registered 20 Jan: due Mon 20 Apr, first nudge Mon 6 Apr
    assert await keys(core, at(2026, 3, 2)) == []
    async with core.db.read() as s:
        assert (await s.get(CoreGroup, group.id)).next_check_on == date(2026, 4, 6)
    assert await checked_groups(core, at(2026, 3, 3)) == set()
    async with core.db.write() as s:
        g = await s.get(CoreGroup, group.id)
        g.registered_on = date(2026, 1, 1)  # due Wed 1 Apr, first nudge Wed 18 Mar
        s.add(g)
    assert await checked_groups(core, at(2026, 3, 3)) == {group.id}
    assert await keys(core, at(2026, 3, 3)) == []
    assert await checked_groups(core, at(2026, 3, 4)) == set()
    assert await keys(core, at(2026, 3, 18)) == [f"nudge:{group.id}:2026-04-01:ahead"]


async def test_closing_a_session_makes_the_group_due_for_a_check_again(core):
    group = await world(core)
    await keys(core, at(2026, 4, 7))
    assert await checked_groups(core, at(2026, 4, 8)) == set()
    async with core.db.write() as s:
        s.add(
            ReflectionSession(
                group_id=group.id,
                set_id="appendix1",
                set_version=1,
                opened_by="U_RO",
                opened_at=at(2026, 4, 8, 9),
                status=SessionStatus.CLOSED,
                closed_at=at(2026, 4, 8, 10),
            )
        )
    assert await checked_groups(core, at(2026, 4, 8)) == {group.id}
    await keys(core, at(2026, 4, 8))
    assert await rows(core) == {f"nudge:{group.id}:2026-04-20:ahead": "cancelled"}


async def test_many_groups_never_looked_at_are_spread_over_the_next_sweeps(core, monkeypatch):
    monkeypatch.setattr(reminders, "MAX_GROUPS_PER_SWEEP", 2)
    async with core.db.write() as s:
        org = Organisation(platform="fake", external_id="T1")
        s.add(org)
        await s.flush()
        for i in range(3):
            s.add(
                CoreGroup(
                    org_id=org.id,
                    child_ref=f"X-{i}",
                    registered_on=date(2026, 1, 20),
                    facilitator_id="U",
                    channel_id=f"C{i}",
                )
            )
    assert len(await keys(core, at(2026, 4, 7, 9))) == 2
    assert len(await keys(core, at(2026, 4, 7, 9, 1))) == 1
    assert await keys(core, at(2026, 4, 7, 9, 2)) == []
    assert await checked_groups(core, at(2026, 4, 8)) == set()


async def test_sweeps_find_every_nudge_due_even_after_days_without_a_sweep(core):
    async with core.db.write() as s:
        org = Organisation(platform="fake", external_id="T1")
        s.add(org)
        await s.flush()
        s.add(StaffRole(org_id=org.id, user_id="U_LEAD", role=OrgRole.LEAD_OFFICER))
        for i in range(36):
            s.add(
                CoreGroup(
                    org_id=org.id,
                    child_ref=f"X-{i}",
                    registered_on=date(2025, 1, 1) + timedelta(days=11 * i),
                    facilitator_id="U",
                    channel_id=f"C{i}",
                    schedule_anchor="last_held" if i % 3 == 0 else "registration",
                    last_supervision_on=date(2025, 9, 1) + timedelta(days=i * 5)
                    if i % 3 == 0
                    else None,
                )
            )
    cal = reminders.calendar_for(org)
    checked_per_sweep = []
    for day in range(0, 365, 9):
        now = at(2026, 1, 5) + timedelta(days=day)
        checked_per_sweep.append(len(await checked_groups(core, now)))
        await reminders.plan(core, now)
        async with core.db.read() as s:
            ledger_rows = list(await s.exec(select(Delivery)))
            pending = {r.key for r in ledger_rows if r.kind == "nudge" and r.status == "pending"}
            reports = {r.key for r in ledger_rows if r.kind == "report"}
            wanted = set()
            for g in await s.exec(select(CoreGroup)):
                state = await reminders.nudge_state(s, g, cal, now, DEFAULT_RULES)
                if state.stage_key:
                    wanted.add(state.stage_key)
                if state.report_due:
                    lead = (await s.exec(select(StaffRole))).one()
                    assert reminders.report_key(g.id, state.due.on, lead.id) in reports
        assert pending == wanted, now
    # After the first sweep only the groups whose nudging moves that day are looked at.
    assert max(checked_per_sweep[1:]) < 36 / 2


def test_the_bookmark_never_skips_a_day_on_which_the_nudges_change():
    """Pure: day by day over three years, the state only changes on a bookmarked day."""
    cal = reminders.calendar_for(Organisation(platform="fake", external_id="T", nation="SCT"))
    groups = []
    for i in range(40):
        groups.append(
            CoreGroup(
                id=i + 1,
                org_id=1,
                child_ref="X",
                registered_on=date(2024, 1, 3) + timedelta(days=13 * i),
                pre_birth=i % 7 == 0,
                rcppm_on=date(2024, 5, 1) + timedelta(days=3 * i) if i % 14 == 0 else None,
                facilitator_id="U",
                channel_id="C",
                schedule_anchor="last_held" if i % 3 == 0 else "registration",
                last_supervision_on=date(2024, 6, 1) + timedelta(days=9 * i) if i % 4 else None,
                snoozed_until=date(2025, 2, 1) + timedelta(days=i) if i % 5 == 0 else None,
                # Some picked a date (one a Saturday), before or long after the due date.
                planned_on=date(2024, 4, 6) + timedelta(days=11 * i) if i % 3 == 1 else None,
            )
        )
    held = [date(2024, 9, 2) + timedelta(days=17 * i) for i in range(0, 40, 2)]
    for group in groups:
        bookmark = None
        seen = None
        day = date(2024, 1, 1)
        while day < date(2027, 1, 1):
            got = reminders.decide(group, held[: group.id % 4], False, cal, day, DEFAULT_RULES)
            now = (got.due, got.stage_key, got.report_due)
            if bookmark is None or day >= bookmark:
                bookmark = reminders.next_check(group, got, cal, DEFAULT_RULES)
                assert bookmark > day
                seen = now
            else:
                assert now == seen, (group.id, day, bookmark)
            day += timedelta(days=1)


async def test_no_nudge_while_the_supervision_is_under_way(core):
    group = await world(core)
    async with core.db.write() as s:
        s.add(
            ReflectionSession(
                group_id=group.id,
                set_id="appendix1",
                set_version=1,
                opened_by="U_RO",
                opened_at=at(2026, 4, 20, 9),
            )
        )
    assert [k for k in await keys(core, at(2026, 4, 20)) if k.startswith("nudge")] == []


# ---- in the reader's language -------------------------------------------------------------------


async def speaks(core, group, *, org: str | None = None, people: dict[str, str] | None = None):
    """Set the organisation's language and people's own choices (as /reflect language does)."""
    async with core.db.write() as s:
        if org is not None:
            found = await s.get(Organisation, group.org_id)
            found.language = org
            s.add(found)
        for user, lang in (people or {}).items():
            s.add(PersonPreference(org_id=group.org_id, user_id=user, language=lang))


async def test_a_welsh_organisations_channel_nudge_is_in_welsh_with_welsh_dates(core):
    group = await world(core)
    await speaks(core, group, org="cy")
    now = at(2026, 4, 7, 9, 30)
    (key,) = await keys(core, now)
    decision = await reminders.render(core, await row(core, key), now)
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
    decision = await reminders.render(core, await row(core, key), later)
    assert isinstance(decision, Send)
    assert "Mae bellach 15 diwrnod yn hwyr." in decision.intents[0].message.text


async def test_each_member_is_reminded_in_their_own_language(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    await speaks(core, group, people={"U_SW": "cy"})  # the organisation stays English
    session = await open_session(core, group, closes_at=at(2026, 3, 6, 14))
    sw, ro = await member_id(core, "U_SW"), await member_id(core, "U_RO")
    now = at(2026, 3, 5, 10)
    await keys(core, at(2026, 3, 3, 10))
    await keys(core, at(2026, 3, 4, 10))
    await keys(core, now)
    sent = {}
    for member in (sw, ro):
        decision = await reminders.render(
            core, await row(core, f"remind:{session.id}:{member}:3"), now
        )
        assert isinstance(decision, Send)
        (dm,) = decision.intents
        sent[dm.user_id] = dm.message
    welsh, english = sent["U_SW"], sent["U_RO"]
    assert welsh.text.startswith(
        "Mae goruchwyliaeth grŵp craidd ar gyfer AB-1234 ar agor tan Gwe 6 Maw 14:00."
    )
    assert "Mae gennych 14 cwestiwn ar ôl, tua 10 munud." in welsh.text
    (buttons,) = [b for b in welsh.blocks if isinstance(b, Buttons)]
    assert buttons.buttons[0].label == "Dechrau"
    assert english.text.startswith("Core group supervision for AB-1234 is open until Fri 6 Mar")
    assert "You have 14 questions left, about 10 minutes." in english.text


async def test_the_lead_officer_report_and_the_snooze_reply_follow_the_reader(core, clock):
    group = await world(core)
    await speaks(core, group, people={"U_LEAD": "cy", "U_RO": "cy"})
    now = at(2026, 5, 18)
    (report,) = [k for k in await keys(core, now) if k.startswith("report")]
    decision = await reminders.render(core, await row(core, report), now)
    assert isinstance(decision, Send)
    assert decision.intents[0].message.text == (
        f"Mae grŵp craidd (grŵp #{group.id}) yn eich sefydliad 28 diwrnod yn hwyr ar gyfer "
        "goruchwyliaeth. Yr hwylusydd yw Rita."
    )
    clock.at = at(2026, 4, 20)
    (reply,) = await reminders.snooze(core, Actor("fake", "T1", "U_RO"), group.id)
    assert reply.message.text == "Wedi gohirio. Fe wna i atgoffa'r sianel hon eto ar Llun 27 Ebr."


async def test_an_action_reminder_in_welsh_names_the_welsh_day(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    await speaks(core, group, people={"U_SW": "cy"})
    session = await open_session(core, group)
    async with core.db.write() as s:
        action = ActionItem(
            session_id=session.id,
            group_id=group.id,
            owner_member_id=await member_id(core, "U_SW"),
            text="Gofyn i'r ysgol am bresenoldeb",
            due_on=date(2026, 3, 16),
        )
        s.add(action)
        await s.flush()
        action_id = action.id
    now = at(2026, 3, 12, 10)
    await keys(core, now)
    decision = await reminders.render(core, await row(core, f"action:{action_id}:before"), now)
    assert isinstance(decision, Send)
    assert decision.intents[0].message.text.startswith(
        "Nodyn atgoffa: chi sy'n gyfrifol am gam gweithredu o oruchwyliaeth grŵp craidd ar gyfer"
        " AB-1234, erbyn Llun 16 Maw."
    )
