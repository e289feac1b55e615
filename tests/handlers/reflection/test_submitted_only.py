"""What "submitted" means: a member's answers count from Submit; later edits count only once
submitted again; closing asks first when someone started, and refuses an incomplete view."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.records.build import build_record
from storage.models import Answer, AuditEvent, ReflectionSession
from tests.factories.console import skip_to_submit


async def _record_choice(bot: ConsoleBackend, name: str, question_id: str) -> str | None:
    async with bot.runtime.core.db.read() as s:
        session = (await s.exec(select(ReflectionSession))).one()
    view = await build_record(bot.runtime.core, session.id or 0)
    question = next(q for q in view.questions if q.id == question_id)
    return next((a.choice for a in question.answers if a.member == name), None)


async def test_edits_after_submitting_count_only_when_submitted_again(group: ConsoleBackend):
    bot = group
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    await bot.click("hv", "Yes")
    await skip_to_submit(bot, "hv")
    assert await _record_choice(bot, "Hana", "risks_current") == "Yes"

    # Hana re-opens her answers and changes question 1, but does not press Done.
    await bot.click("hv", "Review or change my answers")
    await bot.click("hv", "Change")
    shown = await bot.click("hv", "No")
    assert "You can change answers until the session is closed." in shown.text
    assert "Changes are shared only when you press Done" in shown.text
    assert await _record_choice(bot, "Hana", "risks_current") == "Yes", "the submitted answer"

    # Sam starts and stops: nothing of his counts, and he is not counted as taking part.
    await bot.click("sw", "Start")
    await bot.click("sw", "No")
    assert await _record_choice(bot, "Sam", "risks_current") is None

    await bot.command("ro", "close")
    confirm = bot.last_dm("ro")
    assert "Sam started but did not submit" in confirm.text
    assert [b.label for b in confirm.buttons()] == ["Remind them first", "Close now"]
    await bot.click("ro", "Remind them first", confirm)
    assert "A reminder: the reflection for AB-1234 is still open" in bot.last_dm("sw").text
    await bot.click("ro", "Close now", confirm)
    await bot.submit("ro", {"family_sharing": "At the next visit."})

    async with bot.runtime.core.db.read() as s:
        answers = list(await s.exec(select(Answer)))
        closed = (
            await s.exec(select(AuditEvent).where(AuditEvent.action == "session.closed"))
        ).one()
    # At close: Sam's drafts are gone, Hana's unsubmitted edit is undone.
    assert {(a.member_id, a.question_id, a.choice) for a in answers if a.choice} == {
        (answers[0].member_id, "risks_current", "yes")
    }
    assert closed.detail["drafts_deleted"] == 1
    view_people = {p.name: p.attended for p in (await _view(bot)).attendees}
    assert view_people["Hana"] is True and view_people["Sam"] is False


async def _view(bot: ConsoleBackend):  # type: ignore[no-untyped-def]
    async with bot.runtime.core.db.read() as s:
        session = (await s.exec(select(ReflectionSession))).one()
    return await build_record(bot.runtime.core, session.id or 0)


async def test_a_split_view_needs_a_position_and_not_agreed_needs_a_reason(
    group: ConsoleBackend,
):
    bot = group
    await bot.command("ro", "")
    for who, choice in (("hv", "Yes"), ("sw", "No")):
        await bot.click(who, "Start")
        await bot.click(who, choice)
        await skip_to_submit(bot, who)
    base = {"family_sharing": "At the next visit.", "child_life": "Happy at nursery."}

    await bot.command("ro", "close")
    await bot.submit("ro", base)
    assert "Question 1: the answers differ" in bot.last_reply("ro").text

    await bot.command("ro", "close")
    await bot.submit("ro", {**base, "pos_risks_current": "not_agreed"})
    assert "Question 1: please write in its notes why" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        assert (await s.exec(select(ReflectionSession))).one().status == "open"

    await bot.command("ro", "close")
    await bot.submit(
        "ro",
        {
            **base,
            "pos_risks_current": "not_agreed",
            "notes_risks_current": "Health sees progress; social care does not yet.",
            "notes_child_voice": "She says she likes her new room.",
        },
    )
    view = await _view(bot)
    assert view.child_life == "Happy at nursery."
    first = view.questions[0]
    assert first.split and first.agreed == "Not agreed"
    assert first.agreed_notes == "Health sees progress; social care does not yet."
    voice = next(q for q in view.questions if q.id == "child_voice")
    assert voice.group_summary and voice.agreed_notes == "She says she likes her new room."
