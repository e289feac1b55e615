"""``coregroup remind``: one sweep from the command line, as cron or an operator runs it."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from bot.cli import app
from bot.commands.remind import run_once
from bot.platforms.teams.refs import ReferenceStore
from bot.settings import Settings, get_settings
from storage.db import Database
from tests.factories.rows import RITA, at
from tests.factories.scenarios import one_core_group
from tests.fakes.bot_connector import FakeBotConnector

# A group with its nudge due on Monday 20 April 2026: Rita facilitates, nobody else is in it.
GROUP = {"child_ref": "AB-1000", "leads": (), "people": (RITA,)}


def test_remind_dry_run_lists_what_would_go_without_sending(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def seed():
        db = Database(url)
        await db.create_all()
        group = await one_core_group(db, channel_id="C0", **GROUP)
        await db.dispose()
        return group.id

    group_id = asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["remind", "--dry-run", "--as-of", "2026-04-20T10:00"])
        again = CliRunner().invoke(app, ["remind", "--dry-run", "--as-of", "2026-04-20T10:00"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"would send: nudge org=1 group={group_id} key=nudge:{group_id}:2026-04-20:due" in (
        result.output
    )
    assert "Would send 1;" in result.output
    assert "AB-1000" not in result.output and "Rita" not in result.output
    assert again.output == result.output  # a dry run changed nothing


async def test_remind_sends_teams_nudges_itself_when_teams_can_send(tmp_path):
    connector = FakeBotConnector()
    service = await connector.start()
    url = f"sqlite:///{tmp_path / 'teams.db'}"
    db = Database(url)
    await db.create_all()
    group = await one_core_group(
        db, channel_id="19:group@thread.tacv2", platform="teams", external_id="tenant-1", **GROUP
    )
    await ReferenceStore(db).merge("tenant-1", group.channel_id, {"service_url": service})
    await db.dispose()
    settings = Settings(_env_file=None, database_url=url, teams_allow_unauthenticated=True)
    try:
        report = await run_once(settings, at(2026, 4, 20), dry_run=False)
        again = await run_once(settings, at(2026, 4, 20, 11), dry_run=False)
    finally:
        await connector.stop()

    assert [o.result for o in report.outcomes] == ["sent"]
    assert again.outcomes == []  # sent once, not again an hour later
    (post,) = connector.to(group.channel_id)
    assert "AB-1000" in " ".join(post.texts()) and "due today" in " ".join(post.texts())


def test_remind_rejects_a_bad_date():
    result = CliRunner().invoke(app, ["remind", "--as-of", "next tuesday"])
    assert result.exit_code != 0
    assert "ISO date-time" in result.output
