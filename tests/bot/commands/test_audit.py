"""``coregroup audit`` as an operator runs it: ids only, and a chain that shows tampering."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlmodel import select

from handlers.base.core import Core
from storage.models import AuditEvent
from tests.bot.commands.cli_runner import cli, session_through_console
from tests.factories.console import SECRET


async def test_audit_prints_ids_only_and_verifies_the_chain(core: Core):
    await session_through_console(core)
    shown = await cli(core, "audit", "--verify")
    assert shown.exit_code == 0, shown.output
    assert "session.opened" in shown.stdout and "session.closed" in shown.stdout
    assert "verified" in shown.output
    assert SECRET not in shown.output and "QZ-9876" not in shown.output
    other = await cli(core, "audit", "--org", "slack:T-NONE")
    assert other.exit_code == 0 and other.stdout.strip() == ""
    # Someone edits a row behind the bot's back: the chain shows it.
    async with core.db.read() as s:
        target = (
            await s.exec(select(AuditEvent).where(AuditEvent.action == "session.closed"))
        ).one()
    async with core.db.write() as s:
        conn = await s.connection()
        await conn.execute(
            text("UPDATE audit_event SET detail = :d WHERE id = :id"),
            {"d": json.dumps({"positions": 0}), "id": target.id},
        )
    tampered = await cli(core, "audit", "--verify")
    assert tampered.exit_code == 1
    assert f"event {target.id} does not match" in tampered.output
