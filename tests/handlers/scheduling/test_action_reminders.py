"""Action reminders: two working days before and on the day, in the owner's language; on
SQLite and PostgreSQL."""

from datetime import date

from handlers.scheduling.deliveries import Send
from handlers.scheduling.kinds import render
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import add_action, at
from tests.factories.scenarios import member_id, open_session
from tests.factories.scenarios import one_core_group as world
from tests.factories.scenarios import set_languages as speaks


async def test_action_owner_hears_two_working_days_before_and_on_the_day(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    session = await open_session(core, group)
    sw = await member_id(core, "U_SW")
    async with core.db.write() as s:
        action = await add_action(
            s, session, "Ask school about attendance", owner_member_id=sw, due_on=date(2026, 3, 16)
        )
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
    decision = await render(core, await row(core, f"action:{action_id}:due"), now)
    assert isinstance(decision, Send)
    (dm,) = decision.intents
    assert dm.user_id == "U_SW"
    assert "an action from core group supervision for AB-1234 is yours, due today" in (
        dm.message.text
    )
    assert "Ask school about attendance" in dm.message.text


async def test_an_action_reminder_in_welsh_names_the_welsh_day(core):
    group = await world(core, registered_on=date(2025, 10, 10))
    await speaks(core, group, people={"U_SW": "cy"})
    session = await open_session(core, group)
    async with core.db.write() as s:
        action = await add_action(
            s,
            session,
            "Gofyn i'r ysgol am bresenoldeb",
            owner_member_id=await member_id(core, "U_SW"),
            due_on=date(2026, 3, 16),
        )
        action_id = action.id
    now = at(2026, 3, 12, 10)
    await keys(core, now)
    decision = await render(core, await row(core, f"action:{action_id}:before"), now)
    assert isinstance(decision, Send)
    assert decision.intents[0].message.text.startswith(
        "Nodyn atgoffa: chi sy'n gyfrifol am gam gweithredu o oruchwyliaeth grŵp craidd ar gyfer"
        " AB-1234, erbyn Llun 16 Maw."
    )
