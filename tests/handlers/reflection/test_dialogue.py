"""A practitioner's reflection, click by click, through the real handlers and store."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from storage.models import Answer, Participation
from tests.factories.console import APPENDIX1_QUESTIONS


async def _open(bot: ConsoleBackend) -> None:
    await bot.command("ro", "")


async def test_member_gets_invitation_then_questions_one_at_a_time(group: ConsoleBackend):
    bot = group
    await _open(bot)
    invite = bot.dialogue("hv")
    assert "AB-1234" in invite.text and "about 10 minutes" in invite.text
    assert [b.label for b in invite.buttons()] == ["Start", "Not now"]
    shown = await bot.click("hv", "Start")
    assert "Are the risks identified at the ICPPM current?" in shown.text
    assert (
        f"Question 1 of {APPENDIX1_QUESTIONS} · about 10 minutes left" in shown.text
    )  # as the invitation said
    shown = await bot.click("hv", "Yes")
    assert (
        "Have other risks emerged?" in shown.text
        and f"Question 2 of {APPENDIX1_QUESTIONS}" in shown.text
    )
    # One message, edited in place.
    assert shown.id == invite.id and shown.edits == 2


async def test_back_shows_previous_answer_and_allows_change(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("sw", "Start")
    await bot.click("sw", "No")
    shown = await bot.click("sw", "Back")
    assert f"Question 1 of {APPENDIX1_QUESTIONS}" in shown.text and "Your answer: No" in shown.text
    await bot.click("sw", "Yes")
    async with bot.runtime.core.db.read() as s:
        answers = list(await s.exec(select(Answer)))
    assert [(a.question_id, a.choice) for a in answers] == [("risks_current", "yes")]


async def test_comment_and_free_text_through_forms(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    await bot.click("hv", "Add a comment")
    form = bot.form("hv")
    assert form is not None and form.fields[0].label.startswith("Are the risks")
    await bot.submit("hv", {"text": "Dad's return home changes things."})
    shown = bot.dialogue("hv")
    assert "Your words: Dad's return home changes things." in shown.text
    assert (
        f"Question 1 of {APPENDIX1_QUESTIONS}" in shown.text
    )  # a comment doesn't answer the question
    await bot.click("hv", "Yes")
    for _ in range(8):
        await bot.click("hv", "Skip")
    shown = bot.dialogue("hv")
    assert "What is/are the child(ren) saying?" in shown.text
    await bot.click("hv", "Write your answer")
    await bot.submit("hv", {"text": "She says she likes her new school."})
    assert "What is the family saying?" in bot.dialogue("hv").text


async def test_typed_text_answers_a_waiting_question(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    await bot.click("hv", "Add a comment")
    bot.transport.forms.clear()  # a platform without forms: the person just types
    await bot.type("hv", "Typed in the chat")
    assert "Your words: Typed in the chat" in bot.dialogue("hv").text


async def test_review_change_and_submit(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("school", "Start")
    for _ in range(14):
        await bot.click("school", "Skip")
    review = bot.dialogue("school")
    assert "Check your answers" in review.text and "Submit" in [b.label for b in review.buttons()]
    change = [b for b in review.buttons() if b.label == "Change"][2]
    await bot.press("school", change)
    assert "Is the plan working well?" in bot.dialogue("school").text
    await bot.click("school", "Not sure")
    back = bot.dialogue("school")
    assert "Check your answers" in back.text and "Not sure" in back.text  # straight back to review
    await bot.click("school", "Submit")
    assert "Thank you. Your reflection is saved." in bot.dialogue("school").text
    progress = bot.channel_log()[-1]
    assert "1 of 3 have reflected" in progress.text


async def test_not_now_defers_and_start_resumes(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("sw", "Not now")
    assert "remind you later" in bot.dialogue("sw").text
    shown = await bot.click("sw", "Start now")
    assert f"Question 1 of {APPENDIX1_QUESTIONS}" in shown.text


async def test_resume_after_restart_at_the_same_question(group: ConsoleBackend, core):
    """Kill the process mid-dialogue: a new runtime on the same database carries on."""
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    for label in ("Yes", "No", "Yes"):
        await bot.click("hv", label)
    old = bot.dialogue("hv")
    assert f"Question 4 of {APPENDIX1_QUESTIONS}" in old.text
    from bot.runtime import Runtime
    from bot.settings import Settings
    from handlers.base.core import Core

    restarted = Runtime(Settings(), Core(db=core.db, sets=core.sets, clock=core.clock))
    fresh = ConsoleBackend(restarted, transport=bot.transport)  # the platform kept its messages
    await fresh.press("hv", bot.button(old, "No"))
    assert f"Question 5 of {APPENDIX1_QUESTIONS}" in fresh.dialogue("hv").text
    async with core.db.read() as s:
        part = (await s.exec(select(Participation).where(Participation.state == "answering"))).one()
    assert part.position == 4


async def test_double_click_records_one_answer(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    question = bot.dialogue("hv")
    yes = bot.button(question, "Yes")
    await bot.press("hv", yes)
    await bot.press("hv", yes)
    async with bot.runtime.core.db.read() as s:
        answers = list(await s.exec(select(Answer).where(Answer.question_id == "risks_current")))
    assert len(answers) == 1 and answers[0].choice == "yes"


async def test_someone_else_cannot_press_my_buttons(group: ConsoleBackend):
    bot = group
    await _open(bot)
    start = bot.button(bot.dialogue("hv"), "Start")
    await bot.press("sw", start)
    assert "someone else" in bot.last_reply("sw").text
    assert "Start" in [b.label for b in bot.dialogue("hv").buttons()]


async def test_answer_too_long_is_refused_kindly_and_nothing_saved(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    await bot.click("hv", "Add a comment")
    await bot.submit("hv", {"text": "x" * 5000})
    assert "nothing was saved" in bot.last_reply("hv").text
    async with bot.runtime.core.db.read() as s:
        assert list(await s.exec(select(Answer))) == []


async def test_forged_choice_is_refused(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    yes = bot.button(bot.dialogue("hv"), "Yes")
    from handlers.base.messages import Button

    await bot.press("hv", Button("x", yes.action, yes.value.rsplit(":", 1)[0] + ":maybe"))
    assert "doesn't fit" in bot.last_reply("hv").text


async def test_control_characters_are_dropped_before_saving(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("hv", "Start")
    await bot.click("hv", "Add a comment")
    await bot.submit("hv", {"text": "line one\x00\r\nline two\x07"})
    async with bot.runtime.core.db.read() as s:
        answer = (await s.exec(select(Answer))).one()
    assert answer.comment == "line one\nline two"


async def test_after_submitting_answers_can_be_reviewed_and_changed(group: ConsoleBackend):
    bot = group
    await _open(bot)
    await bot.click("sw", "Start")
    await bot.click("sw", "Yes")
    for _ in range(13):
        await bot.click("sw", "Skip")
    await bot.click("sw", "Submit")
    review = await bot.click("sw", "Review or change my answers")
    assert "Check your answers" in review.text and "Submit" not in review.text
    await bot.press("sw", next(b for b in review.buttons() if b.label == "Change"))
    back = await bot.click("sw", "No")
    assert "Check your answers" in back.text and "No" in back.text
    thanks = await bot.click("sw", "Done")
    assert "Your reflection is saved" in thanks.text
    async with bot.runtime.core.db.read() as s:
        answer = (await s.exec(select(Answer).where(Answer.question_id == "risks_current"))).one()
    assert answer.choice == "no"
