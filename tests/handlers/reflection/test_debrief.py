"""The facilitator's private debrief note: offered after close, kept out of every record."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend, Shown
from handlers.base.messages import Button
from handlers.records.build import build_record
from handlers.records.files import record_json, record_markdown
from storage.models import AuditEvent, ReflectionSession, SessionDebrief

NOTE = "Felt rushed; next time leave more room for the school's view."


async def _close(bot: ConsoleBackend) -> int:
    await bot.command("ro", "")
    await bot.command("ro", "close")
    await bot.submit("ro", {"family_sharing": "At the next visit."})
    async with bot.runtime.core.db.read() as s:
        return (await s.exec(select(ReflectionSession))).one().id or 0


def _offer(bot: ConsoleBackend, user: str) -> Shown:
    return next(m for m in bot.dms(user) if any(b.action == "debrief.write" for b in m.buttons()))


async def test_facilitator_is_offered_a_private_note_and_can_write_and_read_it(
    group: ConsoleBackend,
) -> None:
    bot = group
    session_id = await _close(bot)
    offer = _offer(bot, "ro")
    assert "never part of the group's record" in offer.text
    for member in ("hv", "sw", "school"):
        assert all("debrief" not in m.text.lower() for m in bot.dms(member))

    await bot.click("ro", "Write a debrief note", offer)
    form = bot.form("ro")
    assert form is not None and form.title == "Debrief note"
    await bot.submit("ro", {"note": NOTE})
    assert "Your debrief note is saved" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        stored = (await s.exec(select(SessionDebrief))).one()
        audit = [e for e in await s.exec(select(AuditEvent)) if e.action == "debrief.saved"]
    assert stored.session_id == session_id and stored.text == NOTE and stored.written_by == "ro"
    assert len(audit) == 1 and NOTE not in str(audit[0].detail)

    await bot.command("ro", "debrief")
    shown = bot.last_reply("ro").text
    assert NOTE in shown and "Debrief notes · AB-1234" in shown

    # Pressing again shows the note so far, and saving replaces it.
    await bot.click("ro", "Write a debrief note", offer)
    form = bot.form("ro")
    assert form is not None and form.fields[0].initial == NOTE
    await bot.submit("ro", {"note": "Shorter note."})
    async with bot.runtime.core.db.read() as s:
        assert [n.text for n in await s.exec(select(SessionDebrief))] == ["Shorter note."]


async def test_the_note_never_reaches_the_record_or_exports(group: ConsoleBackend) -> None:
    bot = group
    session_id = await _close(bot)
    await bot.click("ro", "Write a debrief note", _offer(bot, "ro"))
    await bot.submit("ro", {"note": NOTE})
    core = bot.runtime.core
    for private in (False, True):
        view = await build_record(core, session_id, include_private=private)
        assert NOTE not in record_markdown(view) and NOTE not in record_json(view)
    for shown in bot.transport.messages.values():
        if shown.where != "@ro":
            assert NOTE not in shown.text


async def test_only_facilitators_can_write_or_read_it(group: ConsoleBackend) -> None:
    bot = group
    await _close(bot)
    offer = _offer(bot, "ro")
    await bot.click("ro", "Write a debrief note", offer)
    await bot.submit("ro", {"note": NOTE})

    await bot.press("hv", bot.button(offer, "Write a debrief note"))  # a forwarded button
    assert bot.form("hv") is None
    assert "Only the facilitator" in bot.last_reply("hv").text
    await bot.command("hv", "debrief")
    assert NOTE not in bot.last_reply("hv").text
    assert "Only the facilitator" in bot.last_reply("hv").text
    await bot.command("chair", "debrief")
    assert "conference chair" in bot.last_reply("chair").text


async def test_an_empty_note_removes_it_and_an_open_session_has_no_debrief(
    group: ConsoleBackend,
) -> None:
    bot = group
    await bot.command("ro", "debrief")
    assert "nothing to debrief" in bot.last_reply("ro").text
    await _close(bot)
    await bot.command("ro", "debrief")
    reply = bot.last_reply("ro")
    assert "No debrief notes yet" in reply.text
    listing = Shown(0, "@ro", reply)
    await bot.click("ro", "Write a debrief note", listing)
    await bot.submit("ro", {"note": NOTE})
    await bot.click("ro", "Write a debrief note", _offer(bot, "ro"))
    await bot.submit("ro", {"note": "   "})
    assert "removed" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        assert list(await s.exec(select(SessionDebrief))) == []

    # A session still open cannot be debriefed, even with a made-up button.
    await bot.command("ro", "")
    async with bot.runtime.core.db.read() as s:
        open_id = next(x.id for x in await s.exec(select(ReflectionSession)) if x.status == "open")
    forged = Button("Write a debrief note", "debrief.write", str(open_id))
    await bot.press("ro", forged)
    assert "after the session has closed" in bot.last_reply("ro").text


async def test_an_overlong_note_is_refused_and_nothing_saved(group: ConsoleBackend) -> None:
    bot = group
    await _close(bot)
    await bot.click("ro", "Write a debrief note", _offer(bot, "ro"))
    await bot.submit("ro", {"note": "x" * 3001})
    assert "too long" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        assert list(await s.exec(select(SessionDebrief))) == []
