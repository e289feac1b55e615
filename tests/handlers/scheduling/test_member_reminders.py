"""Reminders to members who have not finished: two, a personal third, then nothing; never
in the last hour; in each member's language. On SQLite and PostgreSQL."""

from datetime import date

from sqlmodel import select

from handlers.base.messages import Buttons
from handlers.scheduling import member_reminders
from handlers.scheduling.deliveries import Drop, Send, calendar_for
from handlers.scheduling.kinds import render
from storage.models import (
    Delivery,
    Member,
    Participation,
    ParticipationState,
)
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import add_answer, at
from tests.factories.scenarios import member_id, open_session
from tests.factories.scenarios import one_core_group as world
from tests.factories.scenarios import set_languages as speaks


async def test_outstanding_lists_who_has_not_submitted(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    assert [m.user_id for m in await member_reminders.outstanding(core, session.id)] == [
        "U_RO",
        "U_SW",
    ]


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
            await add_answer(s, session, ro, q, "yes")
    now = at(2026, 3, 5, 10)
    third = await keys(core, now)
    assert third == sorted([f"remind:{session.id}:{sw}:3", f"remind:{session.id}:{ro}:3"])
    sent = {}
    for key in third:
        decision = await render(core, await row(core, key), now)
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
    decision = await render(core, await row(core, f"remind:{session.id}:{sw}:1"), now)
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
    cal = calendar_for(None)
    return [t.isoformat()[:16] for t in member_reminders.reminder_times(session, cal)]


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
    assert isinstance(await render(core, stale, at(2026, 3, 5, 13, 1)), Drop)


async def test_a_reminder_for_someone_who_has_since_answered_is_dropped(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    sw = await member_id(core, "U_SW")
    await keys(core, at(2026, 3, 3, 10))
    async with core.db.write() as s:
        part = (await s.exec(select(Participation).where(Participation.member_id == sw))).one()
        part.state = ParticipationState.DONE
        s.add(part)
    decision = await render(
        core, await row(core, f"remind:{session.id}:{sw}:1"), at(2026, 3, 3, 10, 1)
    )
    assert isinstance(decision, Drop)


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
        decision = await render(core, await row(core, f"remind:{session.id}:{member}:3"), now)
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
