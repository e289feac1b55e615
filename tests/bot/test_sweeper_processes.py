"""Two real processes share one PostgreSQL database and a fake Slack for a year of schedules.

Every nudge and reminder the ledger says was sent reached Slack exactly once, and no group is
ever nudged twice on the same day, however the two instances interleave.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Delivery
from tests.conftest import repo_root
from tests.factories.databases import throwaway_postgres
from tests.factories.rows import (
    Person,
    add_group,
    add_members,
    add_organisation,
    add_participations,
    add_session,
)
from tests.fakes.slack_api import FakeSlack

GROUPS = 16
pytestmark = pytest.mark.slow


async def _seed(url: str) -> None:
    db = Database(url)
    await db.create_all()
    async with db.write() as s:
        org = await add_organisation(s, platform="slack", external_id="T0001", name="Council")
        for n in range(GROUPS):
            group = await add_group(
                s,
                org,
                child_ref=f"CR-{n:03d}",
                registered_on=date(2025, 8, 1) + timedelta(days=23 * n),
                facilitator_id=f"URO{n:03d}",
                channel_id=f"C{n:04d}",
            )
            people = [Person(f"U{n:03d}{k}", f"M{k}", "Health") for k in range(3)]
            members = await add_members(s, group, people)
            if n < 2:  # two groups have a session open with nobody answered yet
                opened = datetime(2026, 1, 5, 10, tzinfo=UTC)
                session = await add_session(
                    s, group, opened_at=opened, closes_at=opened + timedelta(days=7)
                )
                await add_participations(s, session, members)
    await db.dispose()


def _times() -> list[datetime]:
    """Every weekday morning of 2026, plus the first afternoons (reminders fall then too)."""
    out, day = [], date(2026, 1, 5)
    while day < date(2027, 1, 1):
        if day.weekday() < 5:
            out.append(datetime(day.year, day.month, day.day, 10, tzinfo=UTC))
            if day < date(2026, 1, 16):
                out.append(datetime(day.year, day.month, day.day, 14, tzinfo=UTC))
        day += timedelta(days=1)
    return out


async def _worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.sweeper_worker",
        cwd=repo_root(),
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def _step(proc: asyncio.subprocess.Process, when: datetime) -> int:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{when.isoformat()}\n".encode())
    await proc.stdin.drain()
    line = (await asyncio.wait_for(proc.stdout.readline(), timeout=60)).decode().strip()
    assert line.startswith("ok "), line
    return int(line.split()[1])


async def test_two_processes_send_every_nudge_and_reminder_exactly_once(pg_url):
    with throwaway_postgres("cg_sched") as url:
        fake = await FakeSlack().start()
        procs: list[asyncio.subprocess.Process] = []
        try:
            await _seed(url)
            fake.fail("chat.postMessage", times=3, status=429, retry_after=1)  # a busy Slack too
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": "secret",
                "SLACK_API_URL": fake.api_url,
                "PYTHONPATH": str(repo_root()),
            }
            env.pop("SLACK_APP_TOKEN", None)
            procs = [await _worker(env), await _worker(env)]
            sent_by = [0, 0]
            day_of: list[date] = []  # the day each message reached Slack
            for when in _times():
                counts = await asyncio.gather(*(_step(p, when) for p in procs))
                sent_by = [a + b for a, b in zip(sent_by, counts, strict=True)]
                day_of += [when.date()] * (len(fake.delivered("chat.postMessage")) - len(day_of))
            db = Database(url)
            async with db.read() as s:
                rows = list(await s.exec(select(Delivery)))
            await db.dispose()
        finally:
            for p in procs:
                if p.stdin:
                    p.stdin.close()
                await p.wait()
            await fake.stop()

    posts = fake.delivered("chat.postMessage")
    # Exactly once: every send the instances reported is one Slack message, and no message
    # went twice (same conversation, same words, same day) — with the daily retention purge on.
    assert len(posts) == sum(sent_by) > 0
    said = Counter(
        (c.body["channel"], c.body["text"], day) for c, day in zip(posts, day_of, strict=True)
    )
    assert said.most_common(1)[0][1] == 1
    assert not [r for r in rows if r.status in ("sending", "dead")]  # nothing stuck or lost
    # Every group without an open session was nudged in its channel, never twice in a day.
    channel_days = Counter(
        (c.body["channel"], day)
        for c, day in zip(posts, day_of, strict=True)
        if c.body["channel"].startswith("C")
    )
    assert {ch for ch, _ in channel_days} == {f"C{n:04d}" for n in range(2, GROUPS)}
    assert max(channel_days.values()) == 1
    # Each member of the two open sessions got their three reminders, once each.
    dms = Counter(c.body["channel"] for c in posts if not c.body["channel"].startswith("C"))
    assert len(dms) == 6 and set(dms.values()) == {3}
