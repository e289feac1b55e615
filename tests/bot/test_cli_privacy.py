"""``coregroup privacy`` and ``coregroup audit`` as an operator runs them, on both backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from handlers.base.core import Core
from storage import crypto
from storage.models import Answer, AuditEvent, CoreGroup, Member
from tests.factories.console import SECRET, full_session

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    crypto.configure(None)


async def cli(core: Core, *args: str, **env: str) -> Result:
    """Run the CLI in a thread (it runs its own event loop) against the test database."""
    get_settings.cache_clear()
    return await asyncio.to_thread(
        runner.invoke, app, list(args), env={"DATABASE_URL": core.db.url, **env}
    )


async def _session(core: Core) -> ConsoleBackend:
    bot = ConsoleBackend(Runtime(settings=Settings(), core=core))
    await full_session(bot)
    return bot


async def test_export_prints_the_persons_data_as_json(core: Core):
    await _session(core)
    result = await cli(core, "privacy", "export", "--user", "hv", "--org", "console:console")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any(SECRET in (a["comment"] or "") for a in data["answers"])
    bad = await cli(core, "privacy", "export", "--user", "hv", "--org", "console")
    assert bad.exit_code == 2


async def test_erase_needs_confirmation_then_erases(core: Core):
    await _session(core)
    unconfirmed = await cli(core, "privacy", "erase", "--user", "hv")
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
    async with core.db.read() as s:
        assert list(await s.exec(select(Member).where(Member.user_id == "hv")))
    done = await cli(core, "privacy", "erase", "--user", "hv", "--yes")
    assert done.exit_code == 0, done.output
    assert "Erased user hv" in done.output and "Kept:" in done.output
    async with core.db.read() as s:
        assert not list(await s.exec(select(Member).where(Member.user_id == "hv")))
    neither = await cli(core, "privacy", "erase", "--yes")
    assert neither.exit_code == 2
    missing = await cli(core, "privacy", "erase", "--user", "nobody", "--yes")
    assert missing.exit_code == 1 and "Nothing is stored" in missing.output


async def test_erase_group(core: Core):
    await _session(core)
    async with core.db.read() as s:
        group = (await s.exec(select(CoreGroup))).one()
    result = await cli(core, "privacy", "erase", "--group", str(group.id), "--yes")
    assert result.exit_code == 0, result.output
    async with core.db.read() as s:
        assert list(await s.exec(select(CoreGroup))) == []


async def test_purge_dry_run_then_for_real(core: Core, clock):
    await _session(core)
    later = (clock.at.replace(tzinfo=None)).isoformat()
    nothing = await cli(core, "privacy", "purge", "--as-of", later)
    assert nothing.exit_code == 0 and "Nothing is due" in nothing.output
    far = "2026-07-01T00:00:00"
    dry = await cli(core, "privacy", "purge", "--as-of", far, "--dry-run")
    assert dry.exit_code == 0 and "Would delete" in dry.output and "answers" in dry.output
    async with core.db.read() as s:
        assert list(await s.exec(select(Answer)))
    real = await cli(core, "privacy", "purge", "--as-of", far)
    assert real.exit_code == 0 and "Deleted" in real.output
    async with core.db.read() as s:
        assert list(await s.exec(select(Answer))) == []


async def test_new_key_and_rotate_key(core: Core):
    first = runner.invoke(app, ["privacy", "new-key"])
    key = first.stdout.strip()
    assert first.exit_code == 0 and len(key) == 44
    crypto.configure(None)
    await _session(core)  # written without encryption
    result = await cli(core, "privacy", "rotate-key", COREGROUP_ENCRYPTION_KEY=key)
    assert result.exit_code == 0, result.output
    assert "Re-encrypted" in result.output
    async with core.db.read() as s:
        conn = await s.connection()
        raw = [
            r[0]
            for r in await conn.execute(
                text("SELECT comment FROM answer WHERE comment IS NOT NULL")
            )
        ]
    assert raw and all(v.startswith("fernet:") for v in raw)
    wrong = await cli(core, "privacy", "rotate-key", COREGROUP_ENCRYPTION_KEY=crypto.new_key())
    assert wrong.exit_code == 1 and "Nothing was changed" in wrong.output
    broken = await cli(core, "privacy", "rotate-key", COREGROUP_ENCRYPTION_KEY="not-a-key")
    assert broken.exit_code == 1 and "not a valid key" in broken.output


async def test_audit_prints_ids_only_and_verifies_the_chain(core: Core):
    await _session(core)
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


async def test_exporting_a_record_from_the_cli_is_audited_and_reads_sealed_text(core: Core):
    key = crypto.new_key()
    crypto.configure(key)
    bot = ConsoleBackend(Runtime(settings=Settings(), core=core))
    sid = await full_session(bot)
    crypto.configure(None)
    result = await cli(
        core, "export", "--session", str(sid), "--format", "md", COREGROUP_ENCRYPTION_KEY=key
    )
    assert result.exit_code == 0, result.output
    assert SECRET in result.stdout
    async with core.db.read() as s:
        events = list(
            await s.exec(select(AuditEvent).where(AuditEvent.action == "record.exported"))
        )
    assert [e.subject for e in events] == [f"session:{sid}"]
