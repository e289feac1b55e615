"""``coregroup privacy`` as an operator runs it (export, erase, purge, keys), on both backends."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from handlers.base.core import Core
from storage import crypto
from storage.models import Answer, CoreGroup, Member
from tests.bot.commands.cli_runner import cli, session_through_console
from tests.factories.console import SECRET

runner = CliRunner()


async def test_export_prints_the_persons_data_as_json(core: Core):
    await session_through_console(core)
    result = await cli(core, "privacy", "export", "--user", "hv", "--org", "console:console")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any(SECRET in (a["comment"] or "") for a in data["answers"])
    bad = await cli(core, "privacy", "export", "--user", "hv", "--org", "console")
    assert bad.exit_code == 2


async def test_erase_needs_confirmation_then_erases(core: Core):
    await session_through_console(core)
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
    await session_through_console(core)
    async with core.db.read() as s:
        group = (await s.exec(select(CoreGroup))).one()
    result = await cli(core, "privacy", "erase", "--group", str(group.id), "--yes")
    assert result.exit_code == 0, result.output
    async with core.db.read() as s:
        assert list(await s.exec(select(CoreGroup))) == []


async def test_purge_dry_run_then_for_real(core: Core, clock):
    await session_through_console(core)
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
    await session_through_console(core)  # written without encryption
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
