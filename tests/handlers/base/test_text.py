"""Bidi overrides and control characters never reach a stored record, an export or an echo.

U+202E (right-to-left override) makes what follows display reversed: in an official record a
typed "‮tnemecalp on" would read "no placement". Every neutral event drops such characters as
it is built, and the renderers drop them again for text stored before that.
"""

from __future__ import annotations

import io

from docx import Document
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.core import Core
from handlers.base.text import clean
from handlers.records.build import build_record, render_record
from handlers.records.files import record_docx, record_markdown
from prompts.text import scrub
from storage.models import ActionItem, Answer, Member, ReflectionSession
from tests.factories.console import CHILD, NAMES, answer_all, setup_command

RLO = "\u202e"  # right-to-left override
HOSTILE = f"Nan{RLO}tnemecalp on\u2066 isolate\u2069 \x00nul \x1b[31m escape\u202a"
UNSAFE = (RLO, "\u2066", "\u2069", "\u202a", "\x00", "\x1b")


def assert_clean(text: str, where: str) -> None:
    found = [hex(ord(c)) for c in UNSAFE if c in text]
    assert not found, f"{where} still has {found}"


async def answer_with(bot: ConsoleBackend, user: str, words: str) -> None:
    """Start, comment on the first question with ``words``, answer the rest plainly."""
    await bot.click(user, "Start")
    await bot.click(user, "Add a comment")
    await bot.submit(user, {"text": words})
    for label in ["Yes", "No", "Yes", "No", "Yes", "No", "No", "Yes", "Yes"]:
        await bot.click(user, label)
    for _ in range(2):
        await bot.click(user, "Write your answer")
        await bot.submit(user, {"text": words})
    await bot.click(user, "Yes")
    await bot.click(user, "No")
    await bot.click(user, "Skip")
    await bot.click(user, "Submit")


async def close_with(bot: ConsoleBackend, words: str) -> None:
    await bot.command("ro", "close")
    await bot.submit(
        "ro",
        {
            "pos_plan_working": "no",
            "notes_plan_working": words,
            "family_sharing": words,
            "action_1_text": words,
            "action_1_owner": "@hv",
            "action_1_due": "2026-03-20",
        },
    )


async def test_an_override_typed_anywhere_is_in_no_stored_text_record_or_export(
    bot: ConsoleBackend, core: Core
) -> None:
    bot.names.update(NAMES)
    bot.names["sw"] = f"Sam{RLO} Social"
    await bot.command("ro", setup_command(CHILD))
    await bot.command("ro", "")
    await answer_with(bot, "sw", HOSTILE)
    await answer_all(bot, "hv")
    await close_with(bot, HOSTILE)

    async with core.db.read() as s:
        comments = [a.comment for a in (await s.exec(select(Answer))).all() if a.comment]
        [session] = (await s.exec(select(ReflectionSession))).all()
        actions = [a.text for a in (await s.exec(select(ActionItem))).all()]
        people = [m.display_name for m in (await s.exec(select(Member))).all()]
    typed = clean(HOSTILE)
    assert typed == "Nantnemecalp on isolate nul [31m escape"  # the words stay, nothing else
    assert comments.count(typed) == 3  # the comment and both written answers, as cleaned
    for stored in [*comments, session.family_sharing or "", *actions, *people]:
        assert_clean(stored, "the database")

    view = await build_record(core, session.id or 0)
    markdown = record_markdown(view)
    assert "Nantnemecalp on" in markdown
    assert_clean(markdown, "the Markdown export")
    assert_clean(render_record(view, "slack"), "the record as posted")
    word = Document(io.BytesIO(record_docx(view)))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert any("Nantnemecalp on" in c for c in cells)
    assert_clean(" ".join(cells + [p.text for p in word.paragraphs]), "the Word record")
    posted = " ".join(m.text for m in bot.channel_log())
    assert_clean(posted, "the channel")


async def test_text_stored_before_scrubbing_existed_is_scrubbed_in_every_export(
    group: ConsoleBackend, core: Core
) -> None:
    await group.command("ro", "")
    await answer_all(group, "hv")
    async with core.db.write() as s:  # as an older version of the bot would have stored it
        for answer in (await s.exec(select(Answer))).all():
            if answer.comment:
                answer.comment = HOSTILE.replace("\x00", "")  # PostgreSQL never held NUL
                s.add(answer)
    await group.command("ro", "close")
    await group.submit("ro", {"pos_plan_working": "no"})
    async with core.db.read() as s:
        [session] = (await s.exec(select(ReflectionSession))).all()

    view = await build_record(core, session.id or 0)
    assert_clean(record_markdown(view), "the Markdown export")
    word = Document(io.BytesIO(record_docx(view)))
    assert_clean(
        " ".join(c.text for t in word.tables for row in t.rows for c in row.cells),
        "the Word record",
    )


async def test_a_nul_or_override_in_a_command_is_not_echoed_back(group: ConsoleBackend) -> None:
    await group.command("ro", f"fro\x00b{RLO}nicate now")
    said = group.last_reply("ro").text
    assert "frobnicate" in said  # the unknown word is quoted back, cleaned
    assert_clean(said, "the reply")


def test_tabs_and_new_lines_survive_where_text_is_multi_line() -> None:
    assert scrub("line one\r\n\tindented\rthree") == "line one\n\tindented\nthree"
    assert clean(f"  {RLO}\x00 ok \x7f ") == "ok"
