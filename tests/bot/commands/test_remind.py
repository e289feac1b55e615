"""``coregroup remind``: one sweep from the command line, as cron or an operator runs it."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.commands.remind import run_once
from bot.platforms.teams.refs import ReferenceStore
from bot.settings import Settings, get_settings
from storage.db import Database
from storage.models import Member, Organisation, OrgRole, StaffRole
from tests.factories.rows import (
    SAM,
    add_action,
    add_delivery,
    add_members,
    add_participations,
    add_session,
    at,
)
from tests.factories.scenarios import numbered_group
from tests.fakes.bot_connector import FakeBotConnector


def test_remind_dry_run_lists_what_would_go_without_sending(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def seed():
        db = Database(url)
        await db.create_all()
        group = await numbered_group(db)
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
    group = await numbered_group(
        db, channel_id="19:group@thread.tacv2", platform="teams", external_id="tenant-1"
    )
    await ReferenceStore(db).merge("tenant-1", group.channel_id, {"service_url": service})
    await db.dispose()
    settings = Settings(
        _env_file=None,
        database_url=url,
        teams_allow_unauthenticated=True,
        teams_extra_service_hosts=connector.host,
    )
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


async def _seed_every_kind(url: str) -> None:
    """One organisation where, on Mon 20 Apr 2026, every kind of delivery has something due."""
    db = Database(url)
    await db.create_all()
    due_today = await numbered_group(db, 1)  # registered 20 Jan: due today
    await numbered_group(db, 2, registered_on=date(2025, 12, 20))  # a month overdue: report too
    meeting = await numbered_group(db, 3, registered_on=date(2025, 10, 10))
    async with db.write() as s:
        org = await s.get(Organisation, meeting.org_id)
        assert org is not None
        s.add(StaffRole(org_id=org.id or 0, user_id="U_LEAD", role=OrgRole.LEAD_OFFICER))
        (sam,) = await add_members(s, meeting, [SAM])
        session = await add_session(s, meeting, opened_at=at(2026, 4, 16, 9))
        rita = (await s.exec(select(Member).where(Member.group_id == meeting.id))).first()
        await add_participations(s, session, [rita, sam])
        await add_action(
            s,
            session,
            "Ask school about attendance",
            owner_member_id=sam.id,
            due_on=date(2026, 4, 22),
        )
        # Already in the ledger: last month's digest, and a nudge the date has since overtaken.
        await add_delivery(s, org, "digest:1:2026-03", at(2026, 4, 1), kind="digest")
        overtaken = f"nudge:{due_today.id}:2026-04-20:ahead"
        await add_delivery(s, org, overtaken, at(2026, 4, 7), group_id=due_today.id)
    await db.dispose()


def test_remind_dry_run_lists_every_kind_due_by_ids_only(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'every.db'}"
    asyncio.run(_seed_every_kind(url))
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["remind", "--dry-run", "--as-of", "2026-04-20T10:00"])
        may = CliRunner().invoke(app, ["remind", "--dry-run", "--as-of", "2026-05-01T10:00"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "would send: action org=1 group=3 member=4 action=1 key=action:1:before",
        "would send: nudge org=1 group=1 key=nudge:1:2026-04-20:due",
        "would send: nudge org=1 group=2 key=nudge:2:2026-03-20:overdue4",
        "would send: remind org=1 group=3 session=1 member=3 key=remind:1:3:2",
        "would send: remind org=1 group=3 session=1 member=4 key=remind:1:4:2",
        "would send: report org=1 group=2 key=report:2:2026-03-20:1",
        "would send: digest org=1 key=digest:1:2026-03",
        "dropped: nudge org=1 group=1 key=nudge:1:2026-04-20:ahead",
        "Would send 7; 1 held back or dropped.",
    ]
    # On the first working day of May a dry run lists the digest rows already in the ledger;
    # it does not plan April's (only a real sweep does).
    assert may.output.splitlines() == [
        "would send: nudge org=1 group=1 key=nudge:1:2026-04-20:overdue1",
        "would send: nudge org=1 group=2 key=nudge:2:2026-03-20:overdue6",
        "would send: remind org=1 group=3 session=1 member=3 key=remind:1:3:3",
        "would send: remind org=1 group=3 session=1 member=4 key=remind:1:4:3",
        "would send: report org=1 group=2 key=report:2:2026-03-20:1",
        "would send: digest org=1 key=digest:1:2026-03",
        "dropped: nudge org=1 group=1 key=nudge:1:2026-04-20:ahead",
        "Would send 6; 1 held back or dropped.",
    ]
