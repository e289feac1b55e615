"""``coregroup export`` as an operator runs it: every format of a record, audited, refusing
what it cannot do."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from handlers.base.core import Core
from prompts.loader import load_catalogue
from storage import crypto
from storage.db import Database
from storage.models import AuditEvent
from tests.bot.commands.cli_runner import cli
from tests.factories.console import SECRET, full_session
from tests.factories.scenarios import session_with_record


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


@pytest.fixture
def file_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'export.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("COREGROUP_SETS_DIR", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _seed_file(url: str) -> int:
    db = Database(url)
    try:
        await db.create_all()
        seeded = await session_with_record(Core(db=db, sets=load_catalogue()))
        return seeded.session_id
    finally:
        await db.dispose()


async def test_cli_exports_every_format(file_db: str, tmp_path: Path) -> None:
    session_id = await _seed_file(file_db)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["export", "--session", str(session_id), *args])

    md = await asyncio.to_thread(invoke, "--format", "md")
    assert md.exit_code == 0, md.output
    assert "Split view: 3 Yes · 2 No" in md.stdout

    data = await asyncio.to_thread(invoke, "--format", "json", "--key-points-only")
    assert data.exit_code == 0, data.output
    record = json.loads(data.stdout)["record"]
    assert record["key_points_only"] is True
    assert "Dad has not been seen" not in data.stdout

    out = tmp_path / "record.docx"
    word = await asyncio.to_thread(invoke, "--format", "docx", "--out", str(out))
    assert word.exit_code == 0, word.output
    paragraphs = Document(io.BytesIO(out.read_bytes())).paragraphs
    assert paragraphs[0].text == "Record of Core Group Supervision/Reflection"

    rows = await asyncio.to_thread(invoke, "--format", "csv")
    assert rows.exit_code == 0 and rows.stdout.startswith("session_id,date,child_ref")


async def test_cli_refuses_unknown_session_and_docx_without_a_file(file_db: str) -> None:
    await _seed_file(file_db)
    runner = CliRunner()
    missing = await asyncio.to_thread(
        runner.invoke, app, ["export", "--session", "424242", "--format", "md"]
    )
    assert missing.exit_code == 1
    assert "Session 424242: I couldn't find that session." in missing.stderr
    word = await asyncio.to_thread(
        runner.invoke, app, ["export", "--session", "1", "--format", "docx"]
    )
    assert word.exit_code == 2 and "--out" in word.stderr
