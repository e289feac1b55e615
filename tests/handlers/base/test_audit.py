"""The audit log: every open, answer, close, role change, export and erasure is in it, with ids
only, and any edit to a past row breaks the chain."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import col, select

from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base import audit
from handlers.base.core import Core
from handlers.governance import privacy
from storage.models import AuditEvent
from tests.factories.console import CHILD, NOTES, SECRET, full_session


async def _events(core: Core) -> list[AuditEvent]:
    async with core.db.read() as s:
        return list(await s.exec(select(AuditEvent).order_by(col(AuditEvent.id))))


async def test_a_whole_session_is_audited_with_ids_only(core: Core):
    bot = ConsoleBackend(Runtime(settings=Settings(), core=core))
    await full_session(bot)
    await bot.command("ro", "add @newbie Police")
    await bot.command("ro", "role @lo lead_officer")
    await privacy.export_user(core, privacy.Subject("console", "hv"))
    await privacy.erase_user(core, privacy.Subject("console", "sw"))
    events = await _events(core)
    actions = [e.action for e in events]
    for expected in (
        "admin.bootstrap",
        "group.created",
        "session.opened",
        "answers.submitted",
        "session.closed",
        "member.added",
        "role.granted",
        "privacy.exported",
        "privacy.erased_user",
    ):
        assert expected in actions, expected
    assert actions.count("answers.submitted") == 2
    submitted = [e for e in events if e.action == "answers.submitted"]
    assert {e.actor for e in submitted} == {"hv", "sw"}
    for e in events:
        said = f"{e.subject} {e.detail}"
        assert SECRET not in said and NOTES not in said and CHILD not in said
    assert audit.verify_chain(events) is None


async def test_editing_or_deleting_a_past_row_breaks_the_chain(core: Core):
    bot = ConsoleBackend(Runtime(settings=Settings(), core=core))
    await full_session(bot)
    events = await _events(core)
    victim = events[len(events) // 2]
    async with core.db.write() as s:
        conn = await s.connection()
        await conn.execute(
            text("UPDATE audit_event SET actor = 'someone-else' WHERE id = :id"), {"id": victim.id}
        )
    assert audit.verify_chain(await _events(core)) == victim.id
    async with core.db.write() as s:
        conn = await s.connection()
        await conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": victim.id})
    broken = audit.verify_chain(await _events(core))
    assert broken is not None and broken > victim.id
