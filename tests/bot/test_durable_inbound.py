"""Acknowledged clicks are never lost: ``coregroup serve`` killed with ``-9`` right after Slack
got its 200s leaves the work in the database, and the next process (a restart, or on PostgreSQL
another instance that is already running) saves every answer. The same for a Teams message.

Each test slows the fake Slack's ``chat.update`` so that most clicks are still waiting their
turn when the process dies (the test checks that this was so), then lets it answer at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from bench.click_server import SIGNING_SECRET
from bench.clicks import answer_clicks, fire, seed
from storage import inbound_work
from storage.db import Database
from storage.models import Answer
from tests.bot.platforms.teams.teams_harness import Harness, Person
from tests.bot.serve_harness import serve_env, serving_line
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlack

CLICKS = 50
LEASE = "2"  # seconds; the default is 30


@asynccontextmanager
async def serve(
    env: dict[str, str], cwd: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """``coregroup serve --port 0`` in its own process; killed at the end if still running."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "serve", "--port", "0"),
        cwd=cwd,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = await serving_line(proc)
        yield proc, int(str(line["port"]))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def answers(db: Database) -> tuple[int, int]:
    """(answers saved, members who answered)."""
    async with db.read() as s:
        count = (await s.exec(select(func.count()).select_from(Answer))).one()
        members = (await s.exec(select(func.count(func.distinct(Answer.member_id))))).one()
        return int(count), int(members)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def click_then_kill(db: Database, port: int, proc: asyncio.subprocess.Process) -> None:
    """Send the signed answer clicks, check every one was acknowledged, ``kill -9`` the server,
    and check it died with acknowledged work not done (else the test would mean nothing)."""
    clicks = answer_clicks(await seed(db, groups=CLICKS // 5), CLICKS, 0)
    await fire(f"http://127.0.0.1:{port}/slack/events", clicks, concurrency=10)
    assert [c.status for c in clicks] == [200] * CLICKS
    proc.kill()  # SIGKILL: no shutdown, no drain
    await proc.wait()
    saved, _ = await answers(db)
    assert saved < CLICKS and await inbound_work.waiting(db) > 0


async def all_saved(db: Database) -> bool:
    return await answers(db) == (CLICKS, CLICKS) and await inbound_work.waiting(db) == 0


async def test_fifty_acknowledged_clicks_survive_kill_9_and_are_saved_after_a_restart(
    db: Database, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    try:
        fake.slow("chat.update", 3)
        env = serve_env(
            db, fake, COREGROUP_INBOUND_LEASE_SECONDS=LEASE, SLACK_SIGNING_SECRET=SIGNING_SECRET
        )
        async with serve(env, tmp_path) as (first, port):
            await click_then_kill(db, port, first)
        fake.slow("chat.update", 0)
        async with serve(env, tmp_path) as (_second, _port):
            await until(lambda: all_saved(db))
    finally:
        await fake.stop()
    # Every member's question message moved on to the next question.
    updated = {(c.body["channel"], c.body["ts"]) for c in fake.delivered("chat.update")}
    assert len({ts for channel, ts in updated if str(channel).startswith("D")}) == CLICKS
    assert fake.violations == []


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_a_running_instance_takes_over_the_clicks_of_one_killed_after_acknowledging(
    db: Database, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    try:
        fake.slow("chat.update", 3)
        env = serve_env(
            db, fake, COREGROUP_INBOUND_LEASE_SECONDS=LEASE, SLACK_SIGNING_SECRET=SIGNING_SECRET
        )
        async with serve(env, tmp_path) as (_other, _other_port):
            async with serve(env, tmp_path) as (first, port):
                await click_then_kill(db, port, first)
            fake.slow("chat.update", 0)
            # No restart: only the other instance is left to do the work.
            await until(lambda: all_saved(db))
    finally:
        await fake.stop()


async def test_a_teams_message_kept_by_a_killed_process_is_answered_after_a_restart(
    db: Database, tmp_path: Path
) -> None:
    fake, connector = await FakeSlack().start(), FakeBotConnector()
    await connector.start()
    who = Person("Sam", "aad-sam")
    try:
        connector.delay = 5  # the first process is still sending its answer when it dies
        env = serve_env(
            db,
            fake,
            COREGROUP_INBOUND_LEASE_SECONDS=LEASE,
            TEAMS_ALLOW_UNAUTHENTICATED="1",
            TEAMS_EXTRA_SERVICE_HOSTS=connector.host,
        )
        async with serve(env, tmp_path) as (first, port):
            teams = Harness(connector, f"http://127.0.0.1:{port}", web.Application())
            posting = asyncio.ensure_future(teams.post(teams.personal(who, "help")))
            await until(lambda: has_kept(db))

            async def answering() -> bool:
                return bool(connector.to(who.personal))

            await until(answering)  # its answer is on the way, unanswered, when it dies
            first.kill()
            await first.wait()
            with contextlib.suppress(aiohttp.ClientError):
                await posting  # Teams saw the connection drop
        connector.delay = 0
        async with serve(env, tmp_path):
            await until(lambda: nothing_kept(db))
    finally:
        await connector.stop()
        await fake.stop()
    # The dead process's answer was in flight (at least once: it may have arrived too).
    [_, answer] = connector.to(who.personal)  # and the restarted process answered
    assert "reflect" in " ".join(answer.texts()).lower()


async def has_kept(db: Database) -> bool:
    return await inbound_work.waiting(db) > 0


async def nothing_kept(db: Database) -> bool:
    return await inbound_work.waiting(db) == 0
