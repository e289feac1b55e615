""" "Pick a date": the facilitator plans the meeting, the channel goes quiet until the day, is
reminded that morning, and hears the usual nudges again if the day passes without a session.
On SQLite and PostgreSQL, with a hand-moved clock."""

from datetime import date, datetime

import pytest
from sqlmodel import select

from handlers.base.errors import BadInput, NotAllowed
from handlers.base.events import Actor, Command, FormSubmit, HomeOpened, Press
from handlers.base.messages import Buttons, Home, OpenForm, Post, Reply
from handlers.router import handle
from handlers.scheduling.channel_nudges import PLAN_ACTION
from handlers.scheduling.deliveries import Send
from handlers.scheduling.kinds import render
from handlers.scheduling.planned_date import PLAN_FORM, save_plan
from storage.models import (
    AuditEvent,
    CoreGroup,
    ReflectionSession,
)
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import ledger_statuses as rows
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import at
from tests.factories.scenarios import one_core_group as world

RO = Actor("fake", "T1", "U_RO")
SW = Actor("fake", "T1", "U_SW")


async def pick(core, clock, when: datetime, value: str) -> list:
    clock.at = when
    group_id = (await _group(core)).id
    return await handle(core, FormSubmit(RO, PLAN_FORM, {"on": value}, state=str(group_id)))


async def _group(core) -> CoreGroup:
    async with core.db.read() as s:
        return (await s.exec(select(CoreGroup))).one()


async def test_the_nudge_button_opens_a_date_form_starting_at_the_due_date(core, clock):
    group = await world(core)
    clock.at = at(2026, 4, 7)
    (intent,) = await handle(core, Press(RO, PLAN_ACTION, str(group.id)))
    assert isinstance(intent, OpenForm)
    form = intent.form
    assert (form.form_id, form.state, form.title) == (PLAN_FORM, str(group.id), "Pick a date")
    (field,) = form.fields
    assert (field.kind, field.initial, field.label) == (
        "date",
        "2026-04-20",
        "When will the group meet?",
    )


async def test_a_picked_date_quiets_the_channel_until_the_day_then_reminds_once(core, clock):
    group = await world(core)
    assert await keys(core, at(2026, 4, 7)) == [f"nudge:{group.id}:2026-04-20:ahead"]

    (post,) = await pick(core, clock, at(2026, 4, 7, 11), "2026-04-28")

    # The whole group sees the date in its channel; the nudge waiting to go out is dropped.
    assert isinstance(post, Post) and post.channel_id == "C_GROUP"
    assert post.message.text == (
        "Core group supervision for AB-1234 is planned for Tue 28 Apr."
        " I'll remind this channel on the day."
    )
    assert set((await rows(core)).values()) == {"cancelled"}
    for quiet_day in (at(2026, 4, 8), at(2026, 4, 20), at(2026, 4, 27)):
        assert await keys(core, quiet_day) == [], quiet_day

    on_the_day = at(2026, 4, 28, 9)
    (key,) = await keys(core, on_the_day)
    assert key == f"nudge:{group.id}:2026-04-20:planned20260428"
    decision = await render(core, (await row(core, key)), on_the_day)
    assert isinstance(decision, Send)
    (nudge,) = decision.intents
    assert nudge.message.text == (
        "Core group supervision for AB-1234 is planned for today."
        " Rita, start it with /reflect when the group is ready."
    )
    (buttons,) = [b for b in nudge.message.blocks if isinstance(b, Buttons)]
    assert [b.label for b in buttons.buttons] == ["Start now", "Pick a date"]
    assert await keys(core, at(2026, 4, 28, 14)) == []  # once

    # The day passed and no supervision was held: the overdue nudges come back.
    assert await keys(core, at(2026, 4, 29)) == [f"nudge:{group.id}:2026-04-20:overdue1"]
    async with core.db.read() as s:
        (audit,) = (
            await s.exec(select(AuditEvent).where(AuditEvent.action == "group.planned"))
        ).all()
    assert (audit.actor, audit.subject) == ("U_RO", f"group:{group.id}")
    assert "AB-1234" not in str(audit.detail)


async def test_a_weekend_date_is_reminded_on_the_next_working_day(core, clock):
    group = await world(core)
    await pick(core, clock, at(2026, 4, 7), "2026-04-25")  # a Saturday
    assert await keys(core, at(2026, 4, 25)) == []
    assert await keys(core, at(2026, 4, 27)) == [f"nudge:{group.id}:2026-04-20:planned20260427"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next tuesday", "Please give the date like this: 2026-05-12."),
        ("2026-04-06", "That date has passed. Please pick today or a later date."),
        ("2027-06-01", "That is more than a year away. Please pick a nearer date."),
        ("", "Please give the date like this: 2026-05-12."),
    ],
)
async def test_a_date_that_cannot_be_used_is_refused_kindly_and_changes_nothing(
    core, clock, value, message
):
    await world(core)
    (reply,) = await pick(core, clock, at(2026, 4, 7), value)
    assert isinstance(reply, Reply) and reply.on_form  # Slack keeps the form open with this
    assert reply.message.text == message
    assert (await _group(core)).planned_on is None


async def test_only_the_facilitator_picks_the_date(core, clock):
    group = await world(core)
    clock.at = at(2026, 4, 7)
    for event in (
        FormSubmit(SW, PLAN_FORM, {"on": "2026-04-28"}, state=str(group.id)),
        Command(SW, "plan 2026-04-28", channel_id="C_GROUP"),
        Press(SW, PLAN_ACTION, str(group.id)),
    ):
        (reply,) = await handle(core, event)
        assert isinstance(reply, Reply)
        assert "Only the facilitator" in reply.message.text
    assert (await _group(core)).planned_on is None
    with pytest.raises(NotAllowed):
        await save_plan(core, SW, "2026-04-28", group_id=group.id)


async def test_the_channel_command_picks_a_date_or_opens_the_form(core, clock):
    await world(core)
    clock.at = at(2026, 4, 7)
    (form,) = await handle(core, Command(RO, "plan", channel_id="C_GROUP"))
    assert isinstance(form, OpenForm) and form.form.form_id == PLAN_FORM
    (post,) = await handle(core, Command(RO, "plan 2026-05-05", channel_id="C_GROUP"))
    assert isinstance(post, Post) and "planned for Tue 5 May" in post.message.text
    assert (await _group(core)).planned_on == date(2026, 5, 5)
    with pytest.raises(BadInput):
        await save_plan(core, RO, "2026-02-30", channel="C_GROUP")


async def test_app_home_shows_the_picked_date_instead_of_the_due_date(core, clock):
    await world(core)
    clock.at = at(2026, 4, 7)
    before = await handle(core, HomeOpened(RO))
    await pick(core, clock, at(2026, 4, 7), "2026-04-28")
    after = await handle(core, HomeOpened(RO))

    def shown(intents: list) -> str:
        (home,) = intents
        assert isinstance(home, Home)
        return " ".join(str(span) for b in home.message.blocks for span in getattr(b, "spans", ()))

    assert "next supervision due Mon 20 Apr" in shown(before)
    assert "meeting planned for Tue 28 Apr" in shown(after)
    assert "due Mon 20 Apr" not in shown(after)


async def test_holding_the_supervision_before_the_picked_date_cancels_the_plan(core, clock):
    await world(core)
    await pick(core, clock, at(2026, 4, 7), "2026-04-28")
    clock.at = at(2026, 4, 22)
    await handle(core, Command(RO, "", channel_id="C_GROUP"))  # /reflect: the meeting is now

    assert (await _group(core)).planned_on is None
    async with core.db.write() as s:  # the session is held and closed
        session = (await s.exec(select(ReflectionSession))).one()
        session.status, session.closed_at = "closed", at(2026, 4, 22, 12)
        s.add(session)
    assert await keys(core, at(2026, 4, 28)) == []  # no "planned for today" for a held meeting


async def test_an_ended_plan_cannot_be_given_a_date(core, clock):
    await world(core, status="ended")
    clock.at = at(2026, 4, 7)
    (reply,) = await handle(core, Command(RO, "plan 2026-04-28", channel_id="C_GROUP"))
    assert isinstance(reply, Reply)
    assert reply.message.text == "This child's plan has ended, so the core group is closed."
    assert (await _group(core)).planned_on is None
