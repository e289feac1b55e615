"""`/reflect export` in the group channel: the facilitator gets the record as a file."""

from __future__ import annotations

import io
import json

from docx import Document
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from storage.models import AuditEvent, ReflectionSession
from tests.handlers.flows import skip_to_submit


async def _closed_session(bot: ConsoleBackend) -> int:
    """Open, let @hv answer with a comment, close with a key point; returns the session id."""
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    await bot.click("hv", "Yes")
    await bot.click("hv", "Add a comment")
    await bot.submit("hv", {"text": "Comment that stays with the group"})
    await skip_to_submit(bot, "hv")
    await bot.command("ro", "close")
    await bot.submit(
        "ro",
        {
            "pos_risks_current": "yes",
            "notes_risks_current": "Key point for the case file",
            "key_risks_current": True,
            "pos_plan_working": "no",
            "notes_plan_working": "Group-only discussion note",
            "family_sharing": "At the next visit.",
        },
    )
    async with bot.runtime.core.db.read() as s:
        session = (await s.exec(select(ReflectionSession))).one()
    return session.id or 0


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


async def test_facilitator_gets_the_latest_record_as_word_and_it_is_audited(
    group: ConsoleBackend,
) -> None:
    bot = group
    session_id = await _closed_session(bot)
    before = len(bot.transport.files)  # the close already attached one
    await bot.command("ro", "export")
    assert len(bot.transport.files) == before + 1
    name, content = bot.transport.files[-1]
    assert name == f"core-group-record-{session_id}.docx"
    text = _docx_text(content)
    assert "Record of Core Group Supervision/Reflection" in text
    assert "Comment that stays with the group" in text
    assert "on its way to the record's thread" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        events = [e for e in await s.exec(select(AuditEvent)) if e.action == "record.exported"]
    assert len(events) == 1
    assert events[0].subject == f"session:{session_id}" and events[0].actor == "ro"
    assert events[0].detail == {"format": "docx", "key_points_only": False}


async def test_markdown_and_json_by_session_id(group: ConsoleBackend) -> None:
    bot = group
    session_id = await _closed_session(bot)
    await bot.command("ro", f"export {session_id} md")
    name, content = bot.transport.files[-1]
    assert name.endswith(".md")
    assert content.decode().startswith("# Record of Core Group Supervision/Reflection")
    await bot.command("ro", f"export json {session_id}")
    name, content = bot.transport.files[-1]
    data = json.loads(content)
    assert name.endswith(".json") and data["record"]["session_id"] == session_id


async def test_case_file_version_keeps_key_points_only(group: ConsoleBackend) -> None:
    bot = group
    await _closed_session(bot)
    await bot.command("ro", "export casefile")
    name, content = bot.transport.files[-1]
    assert name.endswith("-case-file.docx")
    text = _docx_text(content)
    assert "Case file version" in text
    assert "Key point for the case file" in text
    assert "Group-only discussion note" not in text
    assert "Comment that stays with the group" not in text
    assert "case file version" in bot.last_reply("ro").text


async def test_members_cannot_export_and_nothing_is_attached(group: ConsoleBackend) -> None:
    bot = group
    await _closed_session(bot)
    before = len(bot.transport.files)
    await bot.command("hv", "export")
    assert "Only the facilitator can export the record" in bot.last_reply("hv").text
    await bot.command("chair", "export")
    assert "conference chair" in bot.last_reply("chair").text
    assert len(bot.transport.files) == before
    # An admin may: the facilitator set the group up, so is the first admin and can make one.
    await bot.command("ro", "role @hv admin")
    await bot.command("hv", "export md")
    assert len(bot.transport.files) == before + 1


async def test_export_explains_what_it_cannot_do(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "export")
    assert "No supervision has closed here yet" in bot.last_reply("ro").text
    await bot.command("ro", "")
    async with bot.runtime.core.db.read() as s:
        open_id = (await s.exec(select(ReflectionSession))).one().id
    await bot.command("ro", f"export {open_id}")
    assert "hasn't closed yet" in bot.last_reply("ro").text
    await bot.command("ro", "export 999999")
    assert "couldn't find that session in this core group" in bot.last_reply("ro").text
    await bot.command("ro", "export pdf")
    assert "I don't know `pdf` here" in bot.last_reply("ro").text
    assert bot.transport.files == []


async def test_a_session_of_another_group_cannot_be_exported_here(group: ConsoleBackend) -> None:
    bot = group
    session_id = await _closed_session(bot)
    await bot.command(
        "ro",
        "setup child=EF-9999 registered=2026-01-05 facilitator=@ro members=@sw:Social care",
        channel="other-group",
    )
    await bot.command("ro", f"export {session_id}", channel="other-group")
    assert "couldn't find that session" in bot.last_reply("ro").text
