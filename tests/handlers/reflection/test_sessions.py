"""Opening, refusing, closing: the facilitator's side, through the real handlers and store."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.messages import RecordBlock
from storage.models import ActionItem, AgreedPosition, AuditEvent, ReflectionSession


async def _answer_all(bot: ConsoleBackend, user: str, choices: list[str]) -> None:
    await bot.click(user, "Start")
    for label in choices:
        await bot.click(user, label)
    # Child's voice, family's voice are free text; contingency + revise are yes/no; notes text.
    await bot.click(user, "Write your answer")
    await bot.submit(user, {"text": f"{user}: she says school is better"})
    await bot.click(user, "Write your answer")
    await bot.submit(user, {"text": f"{user}: mum wants fewer visits"})
    await bot.click(user, "Yes")
    await bot.click(user, "No")
    await bot.click(user, "Skip")
    await bot.click(user, "Submit")


async def test_only_the_facilitator_can_open_and_nothing_changes(group: ConsoleBackend):
    bot = group
    await bot.command("hv", "")
    reply = bot.last_reply("hv")
    assert "Only the facilitator can start a reflection" in reply.text
    async with bot.runtime.core.db.read() as s:
        assert list(await s.exec(select(ReflectionSession))) == []
    assert bot.dms("sw") == []


async def test_the_chair_cannot_facilitate(group: ConsoleBackend):
    bot = group
    await bot.command("chair", "")
    assert "conference chair" in bot.last_reply("chair").text
    await bot.command(
        "ro", "setup child=AB-1234 registered=2026-01-05 facilitator=@chair chair=@chair"
    )
    assert "must not be the conference chair" in bot.last_reply("ro").text


async def test_one_open_session_per_group(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    await bot.command("ro", "")
    assert "already open" in bot.last_reply("ro").text
    assert len(bot.dms("hv")) == 1


async def test_unknown_command_and_unregistered_channel(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "frobnicate")
    assert "I don't know `frobnicate`" in bot.last_reply("ro").text
    await bot.command("ro", "", channel="elsewhere")
    assert "not set up as a core group" in bot.last_reply("ro").text


async def test_status_shows_who_not_what(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    await bot.click("hv", "Add a comment")
    await bot.submit("hv", {"text": "private until close"})
    await bot.command("sw", "status")
    status = bot.last_reply("sw").text
    assert "0 of 3 have reflected" in status and "private until close" not in status


async def test_close_records_positions_actions_and_sends_the_record(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    yes9 = ["Yes", "No", "Yes", "No", "Yes", "No", "No", "Yes", "Yes"]
    await _answer_all(bot, "hv", yes9)
    await _answer_all(bot, "sw", ["Yes", "No", "No", "No", "Yes", "No", "No", "Yes", "Yes"])
    await bot.command("hv", "close")
    assert "Only the facilitator can close" in bot.last_reply("hv").text
    await bot.command("ro", "close")
    form = bot.form("ro")
    assert form is not None
    labels = {f.id: f.label for f in form.fields}
    assert labels["pos_plan_working"].endswith("(1 Yes · 1 No)")
    await bot.submit(
        "ro",
        {
            "pos_plan_working": "no",
            "notes_plan_working": "Plan not yet working for school.",
            "key_plan_working": True,
            "family_sharing": "SW to share at next home visit.",
            "action_1_text": "Ask CAMHS for advice",
            "action_1_owner": "@hv",
            "action_1_due": "2026-03-20",
            "themes": ["expert_advice_needed"],
        },
    )
    async with bot.runtime.core.db.read() as s:
        session = (await s.exec(select(ReflectionSession))).one()
        positions = list(await s.exec(select(AgreedPosition)))
        actions = list(await s.exec(select(ActionItem)))
        audit = [e.action for e in await s.exec(select(AuditEvent))]
    assert session.status == "closed" and session.family_sharing.startswith("SW to share")
    assert [(p.question_id, p.position, p.key_point) for p in positions] == [
        ("plan_working", "no", True)
    ]
    assert actions[0].text == "Ask CAMHS for advice" and str(actions[0].due_on) == "2026-03-20"
    assert "session.closed" in audit and "session.opened" in audit
    thread = [m for m in bot.channel_log() if m.thread is not None]
    assert len(thread) == 1 and isinstance(thread[0].message.blocks[0], RecordBlock)
    record = thread[0].text
    assert "Is the plan working well?" in record and "Plan not yet working for school." in record
    assert "hv: she says school is better" in record
    assert "Ask CAMHS for advice" in record
    # Each member has a copy; the question messages say the session has closed.
    for user in ("hv", "sw", "school"):
        assert any(isinstance(m.message.blocks[0], RecordBlock) for m in bot.dms(user))
        assert "has closed" in bot.dialogue(user).text
    assert bot.transport.files and bot.transport.files[0][0].endswith(".docx")
    # Old buttons can no longer change anything.
    await bot.command("ro", "close")
    assert "no open session" in bot.last_reply("ro").text


async def test_close_form_refuses_bad_input_and_changes_nothing(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    await bot.command("ro", "close")
    await bot.submit("ro", {"family_sharing": "x", "action_1_owner": "@hv"})
    assert "no description" in bot.last_reply("ro").text
    await bot.command("ro", "close")
    await bot.submit(
        "ro", {"family_sharing": "x", "action_1_text": "Do it", "action_1_owner": "@stranger"}
    )
    assert "not in this core group" in bot.last_reply("ro").text
    await bot.command("ro", "close")
    await bot.submit("ro", {})
    assert "shared with the family" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        assert (await s.exec(select(ReflectionSession))).one().status == "open"
        assert list(await s.exec(select(ActionItem))) == []


async def test_cancel_updates_everyone(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    await bot.command("ro", "cancel")
    assert "cancelled" in bot.dialogue("hv").text
    assert "cancelled" in bot.channel_log()[-1].text


async def test_remind_outstanding_dms_only_those_outstanding(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    for _ in range(14):
        await bot.click("hv", "Skip")
    await bot.click("hv", "Submit")
    await bot.command("ro", "remind")
    assert "Reminded 2 people" in bot.last_reply("ro").text
    assert len(bot.dms("hv")) == 1 and len(bot.dms("sw")) == 2
