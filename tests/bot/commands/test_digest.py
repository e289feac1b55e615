"""``coregroup digest`` as an operator runs it: the Lead Officer digest printed, never a child."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from storage.db import Database
from storage.models import Organisation
from tests.factories.scenarios import digest_month, digest_secrets


@pytest.fixture
def file_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("COREGROUP_SETS_DIR", raising=False)
    monkeypatch.delenv("COREGROUP_DIGEST_MIN_COUNT", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def test_cli_prints_the_digest_and_needs_an_org_when_there_are_several(
    file_db: str,
) -> None:
    db = Database(file_db)
    try:
        await db.create_all()
        await digest_month(db)
    finally:
        await db.dispose()
    runner = CliRunner()
    out = await asyncio.to_thread(runner.invoke, app, ["digest", "--month", "2026-02"])
    assert out.exit_code == 0, out.output
    assert "**Supervisions held:** 6 (January 2026: fewer than 5)" in out.stdout
    assert not any(secret in out.stdout for i in range(13) for secret in digest_secrets(i))
    low = await asyncio.to_thread(
        runner.invoke,
        app,
        ["digest", "--org", "console:T-digest", "--month", "2026-02", "--min-count", "1"],
    )
    assert low.exit_code == 0 and "(January 2026: 2)" in low.stdout

    db = Database(file_db)
    try:
        async with db.write() as s:
            s.add(Organisation(platform="slack", external_id="T0SECOND"))
    finally:
        await db.dispose()
    several = await asyncio.to_thread(runner.invoke, app, ["digest", "--month", "2026-02"])
    assert several.exit_code == 1 and "--org" in several.stderr
    assert "slack:T0SECOND" in several.stderr
    bad = await asyncio.to_thread(
        runner.invoke, app, ["digest", "--org", "slack:T0SECOND", "--month", "26-2"]
    )
    assert bad.exit_code == 1 and "YYYY-MM" in bad.stderr
