"""Situations reached the way people reach them: through the console platform, whole dialogues.

``full_session`` sets up a core group, opens a session, lets two members answer every
Appendix 1 question and closes it. Its answers carry recognisable secrets, so privacy,
retention and audit tests can prove where practitioner text does (the store, the record) and
does not (logs, button values, ledgers) end up. ``answer_everything`` plays one member through
any question set. ``Seen`` and ``accessibility_problems`` check what the console showed.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend, Shown
from handlers.base.messages import Button, Buttons, Message, RecordBlock
from handlers.base.record_view import RecordView
from prompts.loader import load_catalogue
from storage.models import ReflectionSession

# Console user ids and the names the console shows for them.
NAMES = {"ro": "Rita (RO)", "sw": "Sam", "hv": "Hana", "school": "Sol", "chair": "Chris"}
MEMBERS = ("sw", "hv", "school")


def setup_command(child: str) -> str:
    """``/reflect setup`` for a core group: facilitator @ro, three members, chair @chair."""
    return (
        f"setup child={child} registered=2026-01-05 facilitator=@ro chair=@chair "
        "members=@sw:Social care;@hv:Health visiting;@school:Education"
    )


SETUP = setup_command("AB-1234")

# ---- a whole session with secrets in it --------------------------------------------------------

CHILD = "QZ-9876"
SECRET = "SECRET-ANSWER-7f3a"
NOTES = "SECRET-NOTES-91c2"


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


async def close(bot: ConsoleBackend) -> None:
    """The facilitator closes with a position, notes, family sharing, an action and a theme."""
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
    bot.names.update(NAMES)
    if setup:
        await bot.command("ro", setup_command(CHILD))
    await bot.command("ro", "")
    await answer_all(bot, "hv")
    await answer_all(bot, "sw")
    await close(bot)
    async with bot.runtime.core.db.read() as s:
        session = (
            await s.exec(select(ReflectionSession).where(ReflectionSession.status == "closed"))
        ).all()[-1]
    return session.id or 0


# ---- any question set, and what the console showed ----------------------------------------------


def record_messages(bot: ConsoleBackend) -> list[Message]:
    return [
        m.message
        for m in bot.channel_log()
        if any(isinstance(b, RecordBlock) for b in m.message.blocks)
    ]


def record_view(bot: ConsoleBackend) -> RecordView:
    [message] = record_messages(bot)
    [block] = [b for b in message.blocks if isinstance(b, RecordBlock)]
    return block.view


def latest_dialogue(bot: ConsoleBackend, user: str) -> Shown:
    """The person's question message for the newest session (``bot.dialogue`` is the first)."""
    return [m for m in bot.dms(user) if m.opened_as_dialogue][-1]


def _first(shown: Shown, action: str) -> Button | None:
    return next((b for b in shown.buttons() if b.action == action), None)


async def answer_everything(
    bot: ConsoleBackend, user: str, words: str = "A few words.", prefer: tuple[str, ...] = ()
) -> int:
    """Start, answer every question (choice, scale, yes/no or text), submit. Returns how many
    questions were answered. A choice labelled as in ``prefer`` wins over the first one."""
    shown = latest_dialogue(bot, user)
    start = _first(shown, "dlg.start")
    assert start is not None, [b.label for b in shown.buttons()]
    await bot.press(user, start)
    for answered in range(60):
        shown = latest_dialogue(bot, user)
        submit = _first(shown, "dlg.submit")
        if submit is not None:
            await bot.press(user, submit)
            return answered
        liked = [b for b in shown.buttons() if b.action == "dlg.answer" and b.label in prefer]
        choice = liked[0] if liked else _first(shown, "dlg.answer")
        if choice is not None:
            await bot.press(user, choice)
        else:
            text = _first(shown, "dlg.text")
            assert text is not None, f"no way to answer: {[b.label for b in shown.buttons()]}"
            await bot.press(user, text)
            await bot.submit(user, {"text": f"{words} ({user})"})
    raise AssertionError(f"{user} never reached the review")


def accessibility_problems(message: Message, where: str) -> list[str]:
    """A text fallback, and buttons that make sense read aloud one by one."""
    problems = []
    if not message.text.strip():
        problems.append(f"{where}: no text fallback")
    buttons = [b for block in message.blocks if isinstance(block, Buttons) for b in block.buttons]
    for b in buttons:
        if not b.label.strip():
            problems.append(f"{where}: a button without a label")
        if b.spoken is not None and not b.spoken.strip():
            problems.append(f"{where}: '{b.label}' has an empty spoken label")
    repeated = {label for label, n in Counter(b.label for b in buttons).items() if n > 1}
    read_aloud = Counter(b.spoken or b.label for b in buttons if b.label in repeated)
    problems += [
        f"{where}: '{said}' is read aloud for {n} different buttons"
        for said, n in read_aloud.items()
        if n > 1
    ]
    return problems


class Seen:
    """Every version of every message the console showed (edits included) and every reply."""

    def __init__(self, bot: ConsoleBackend) -> None:
        self.messages: list[tuple[str, Message]] = []
        bot.transport.on_show = lambda shown, _edit: self.messages.append(
            (shown.where, shown.message)
        )

    def problems(self) -> list[str]:
        return [p for where, m in self.messages for p in accessibility_problems(m, where)]


# How many questions Appendix 1 asks: tests count "Question 4 of N" from the set, so adding a
# question to prompts/sets/appendix1.yaml changes no test that is not about that question.
APPENDIX1_QUESTIONS = len(load_catalogue().get("appendix1").questions)
