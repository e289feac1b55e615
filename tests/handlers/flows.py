"""Whole sessions driven through the console platform, for the privacy, retention and audit tests.

Answers carry recognisable secrets so tests can prove where practitioner text does (the store,
the record) and does not (logs, button values, ledgers) end up.
"""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from storage.models import ReflectionSession

CHILD = "QZ-9876"
SETUP = (
    f"setup child={CHILD} registered=2026-01-05 facilitator=@ro chair=@chair "
    "members=@sw:Social care;@hv:Health visiting;@school:Education"
)
SECRET = "SECRET-ANSWER-7f3a"
NOTES = "SECRET-NOTES-91c2"


def names(bot: ConsoleBackend) -> None:
    bot.names.update(ro="Rita (RO)", sw="Sam", hv="Hana", school="Sol", chair="Chris")


async def answer_all(bot: ConsoleBackend, user: str) -> None:
    """Answer every Appendix 1 question, with secret words in a comment and the free text."""
    await bot.click(user, "Start")
    await bot.click(user, "Add a comment")
    await bot.submit(user, {"text": f"{SECRET} comment by {user}"})
    for label in ["Yes", "No", "Yes", "No", "Yes", "No", "No", "Yes", "Yes"]:
        await bot.click(user, label)
    await bot.click(user, "Write your answer")
    await bot.submit(user, {"text": f"{SECRET} child voice by {user}"})
    await bot.click(user, "Write your answer")
    await bot.submit(user, {"text": f"{SECRET} family voice by {user}"})
    await bot.click(user, "Yes")
    await bot.click(user, "No")
    await bot.click(user, "Skip")
    await bot.click(user, "Submit")


async def skip_to_submit(bot: ConsoleBackend, user: str) -> None:
    """Leave the remaining questions unanswered and submit what is there."""
    for _ in range(40):
        labels = [b.label for b in bot.dialogue(user).buttons()]
        for wanted in ("Submit", "Skip", "Next"):
            if wanted in labels:
                await bot.click(user, wanted)
                break
        else:
            raise AssertionError(f"no way on from {labels}")
        if wanted == "Submit":
            return
    raise AssertionError("never reached Submit")


async def close(bot: ConsoleBackend) -> None:
    await bot.command("ro", "close")
    await bot.submit(
        "ro",
        {
            "pos_plan_working": "no",
            "notes_plan_working": NOTES,
            "family_sharing": f"{NOTES} family sharing",
            "action_1_text": f"{NOTES} action",
            "action_1_owner": "@hv",
            "action_1_due": "2026-03-20",
            "themes": ["expert_advice_needed"],
        },
    )


async def full_session(bot: ConsoleBackend, *, setup: bool = True) -> int:
    """Set up (optionally), open, two members answer, close. Returns the session id."""
    names(bot)
    if setup:
        await bot.command("ro", SETUP)
    await bot.command("ro", "")
    await answer_all(bot, "hv")
    await answer_all(bot, "sw")
    await close(bot)
    async with bot.runtime.core.db.read() as s:
        session = (
            await s.exec(select(ReflectionSession).where(ReflectionSession.status == "closed"))
        ).all()[-1]
    return session.id or 0
