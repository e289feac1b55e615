"""Actions to done: the reminder's buttons, `/reflect actions`, the record and the next close
form; through the console, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend, Shown
from handlers.records.build import build_record
from handlers.scheduling.deliveries import Send
from handlers.scheduling.kinds import render
from storage.models import ActionItem, ActionStatus, AuditEvent, ReflectionSession
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import at


async def _close_with_action(bot: ConsoleBackend, due: str = "2026-03-20") -> None:
    await bot.command("ro", "")
    await bot.command("ro", "close")
    await bot.submit(
        "ro",
        {
            "family_sharing": "Shared with mum",
            "action_1_text": "Ask school about attendance",
            "action_1_owner": "@hv",
            "action_1_due": due,
        },
    )


async def _action(bot: ConsoleBackend) -> ActionItem:
    async with bot.runtime.core.db.read() as s:
        return (await s.exec(select(ActionItem))).one()


async def _reminder(bot: ConsoleBackend, action_id: int) -> Shown:
    """The due-day reminder, as the sweeper renders it, shown in the owner's messages."""
    core = bot.runtime.core
    now = at(2026, 3, 20, 10)
    await keys(core, now)
    decision = await render(core, await row(core, f"action:{action_id}:due"), now)
    assert isinstance(decision, Send)
    (dm,) = decision.intents
    ref = await bot.transport.direct("console", dm.user_id, dm.message)
    return bot.transport.messages[int(ref["id"])]


async def test_the_owner_marks_an_action_done_from_its_reminder(group: ConsoleBackend):
    await _close_with_action(group)
    action = await _action(group)
    reminder = await _reminder(group, action.id)
    assert [b.label for b in reminder.buttons()] == ["Done", "Not yet"]
    await group.click("sw", "Done", reminder)
    assert "Only the person who owns this action" in group.last_reply("sw").text
    assert (await _action(group)).status == ActionStatus.OPEN
    await group.click("hv", "Not yet", reminder)
    assert "It stays open" in group.last_reply("hv").text
    assert (await _action(group)).status == ActionStatus.OPEN
    await group.click("hv", "Done", reminder)
    assert "marked as done" in group.last_reply("hv").text
    done = await _action(group)
    assert done.status == ActionStatus.DONE and done.done_at is not None
    await group.click("hv", "Done", reminder)
    assert "already done" in group.last_reply("hv").text
    async with group.runtime.core.db.read() as s:
        audited = list(await s.exec(select(AuditEvent).where(AuditEvent.action == "action.done")))
    assert len(audited) == 1
    # A done action is not reminded any more.
    core = group.runtime.core
    decision = await render(core, await row(core, f"action:{action.id}:due"), at(2026, 3, 20))
    assert not isinstance(decision, Send)


async def test_the_actions_list_with_done_buttons_for_the_facilitator_only(
    group: ConsoleBackend,
):
    await group.command("ro", "actions")
    assert "no open actions" in group.last_reply("ro").text
    await _close_with_action(group)
    await group.command("sw", "actions")
    listed = group.last_reply("sw")
    assert "Ask school about attendance · hv · due 2026-03-20 · open" in listed.text
    assert "Done" not in str(listed.blocks)
    await group.command("outsider", "actions")
    assert "Only the people in this core group" in group.last_reply("outsider").text
    await group.command("ro", "actions")
    (done,) = _buttons(group, "ro")
    await group.press("ro", done)
    assert (await _action(group)).status == ActionStatus.DONE
    await group.command("ro", "actions")
    assert "no open actions" in group.last_reply("ro").text


async def test_the_record_shows_the_status_and_the_next_close_form_starts_with_it(
    group: ConsoleBackend,
):
    await _close_with_action(group)
    action = await _action(group)
    async with group.runtime.core.db.read() as s:
        first = (await s.exec(select(ReflectionSession.id))).one()
    record = await build_record(group.runtime.core, first)
    assert [a.status for a in record.actions] == ["open"]
    await group.command("ro", "actions")
    (done,) = _buttons(group, "ro")
    assert done.value == str(action.id)
    await group.press("ro", done)
    record = await build_record(group.runtime.core, first)
    assert [a.status for a in record.actions] == ["done"]
    await group.command("ro", "")
    await group.command("ro", "close")
    form = group.form("ro")
    assert form is not None
    intro = "".join(str(span) for span in form.intro)
    assert "Actions from last time:" in intro
    assert "Ask school about attendance (hv, due 2026-03-20): done" in intro


def _buttons(bot: ConsoleBackend, user: str) -> list:
    return [b for blk in bot.last_reply(user).blocks for b in getattr(blk, "buttons", ())]
