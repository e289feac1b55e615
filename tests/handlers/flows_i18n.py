"""Whole-dialogue helpers for the set, language and accessibility tests (console backend).

``answer_everything`` plays one member through every question whatever its kind, pressing the
first choice, writing text where a question wants words, then submitting.
"""

from __future__ import annotations

from collections import Counter

from bot.platforms.console.backend import ConsoleBackend, Shown
from handlers.base.messages import Button, Buttons, Message, RecordBlock
from handlers.base.record_view import RecordView

MEMBERS = ("sw", "hv", "school")


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
