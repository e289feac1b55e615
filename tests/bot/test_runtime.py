"""Faults: the database going away mid-request, and platforms refusing messages.

Whatever fails, the person is told plainly, nothing is half-written, and the facilitator learns
who could not be reached.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.platforms.console.backend import ConsoleBackend, ConsoleTransport
from bot.runtime import Runtime
from bot.settings import Settings
from bot.transport import DeliveryFailed, PlatformRef
from handlers.base import audit
from handlers.base.core import Core
from handlers.base.errors import Unavailable
from handlers.base.messages import Mention, Message, Paragraph
from prompts.loader import Catalogue
from storage.db import Database
from storage.models import Answer, AuditEvent, Participation, ReflectionSession
from tests.bot.platforms.teams.teams_harness import Person, running
from tests.factories.console import APPENDIX1_QUESTIONS, SETUP
from tests.factories.databases import PG_ADMIN

UNAVAILABLE = Unavailable().user_message


class Unreachable(ConsoleTransport):
    """A console platform on which some people cannot be messaged (deactivated, blocked)."""

    def __init__(self, *blocked: str) -> None:
        super().__init__()
        self.blocked = set(blocked)

    async def direct(self, org: str, user_id: str, message: Message) -> PlatformRef:
        if user_id in self.blocked:
            raise DeliveryFailed("user_not_found")
        return await super().direct(org, user_id, message)


async def test_facilitator_is_told_who_could_not_be_reached(core: Core):
    bot = ConsoleBackend(Runtime(Settings(), core), transport=Unreachable("sw"))
    await bot.command("ro", SETUP)
    await bot.command("ro", "")
    assert bot.dms("hv") and not bot.dms("sw")
    note = bot.last_dm("ro").message
    mentioned = [
        s.user_id
        for b in note.blocks
        if isinstance(b, Paragraph)
        for s in b.spans
        if isinstance(s, Mention)
    ]
    assert mentioned == ["sw"]
    assert "couldn't reach" in bot.last_dm("ro").text
    # The reminder cannot reach sw either, and the facilitator hears about it again.
    before = len(bot.dms("ro"))
    await bot.command("ro", "remind")
    assert len(bot.dms("ro")) == before + 1
    assert "couldn't reach" in bot.last_dm("ro").text


async def test_no_note_when_everyone_is_reached(core: Core):
    bot = ConsoleBackend(Runtime(Settings(), core))
    await bot.command("ro", SETUP)
    await bot.command("ro", "")
    assert not bot.dms("ro")


# ---- the database going away (PostgreSQL) --------------------------------------------------


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def take_down(name: str) -> None:
    """No new connections, and every open one (the pool's) terminated."""
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


def bring_back(name: str) -> None:
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def _counts(db: Database) -> dict[str, int]:
    out = {}
    async with db.read() as s:
        conn = await s.connection()
        for table in SQLModel.metadata.sorted_tables:
            out[table.name] = (
                await conn.execute(text(f'SELECT count(*) FROM "{table.name}"'))
            ).scalar_one()
    return out


async def test_database_lost_mid_request_saves_nothing_and_says_try_again(
    pg_url: str, catalogue: Catalogue, clock, monkeypatch: pytest.MonkeyPatch
):
    db = Database(pg_url)
    core = Core(db=db, sets=catalogue, clock=clock)
    name = _dbname(pg_url)
    try:
        async with db.write() as s:
            conn = await s.connection()
            for table in reversed(SQLModel.metadata.sorted_tables):
                await conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
        bot = ConsoleBackend(Runtime(Settings(), core))
        await bot.command("ro", SETUP)
        before = await _counts(db)

        real_record = audit.record

        async def dies_half_way(*args, **kwargs):  # type: ignore[no-untyped-def]
            # The session and participations are flushed; now the server goes away.
            take_down(name)
            return await real_record(*args, **kwargs)

        monkeypatch.setattr(audit, "record", dies_half_way)
        await bot.command("ro", "")
        monkeypatch.setattr(audit, "record", real_record)
        assert bot.last_reply("ro").text == UNAVAILABLE
        assert not bot.dms("hv")  # nobody was invited to a session that does not exist
        # While it is down, every request gets the same plain answer.
        await bot.command("hv", "status")
        assert bot.last_reply("hv").text == UNAVAILABLE
    finally:
        bring_back(name)
    assert await _counts(db) == before  # nothing half-written
    async with db.read() as s:
        assert list(await s.exec(select(ReflectionSession))) == []
        assert list(await s.exec(select(Participation))) == []
        assert "session.opened" not in {e.action for e in await s.exec(select(AuditEvent))}
    # Back up: the same command works, and the audit chain is whole.
    await bot.command("ro", "")
    assert bot.dms("hv")
    async with db.read() as s:
        events = list(await s.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    assert audit.verify_chain(events) is None
    await db.dispose()


async def test_teams_gets_200_and_the_kind_message_when_the_database_is_down(
    catalogue: Catalogue,
):
    down = Database("postgresql://postgres@127.0.0.1:9/nowhere")
    core = Core(db=down, sets=catalogue)
    try:
        async with running(core) as harness:
            ro = Person("Rita", "aad-ro")
            status, _ = await harness.post(harness.in_channel(ro, "status"))
            assert status == 200
            said = [t for c in harness.connector.calls for t in c.texts()]
            assert any(UNAVAILABLE in t for t in said), said
    finally:
        await down.dispose()


class DiesOnNextUpdate(ConsoleTransport):
    """The process is killed after the database commit, before the platform hears of it."""

    armed = False

    async def update(self, org: str, ref: PlatformRef, message: Message) -> None:
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt  # stands in for SIGKILL: nothing after this runs
        await super().update(org, ref, message)


async def test_killed_between_commit_and_send_the_repeated_click_lands_once(core: Core):
    transport = DiesOnNextUpdate()
    bot = ConsoleBackend(Runtime(Settings(), core), transport=transport)
    await bot.command("ro", SETUP)
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    card = bot.dialogue("hv")
    yes = bot.button(card, "Yes")
    transport.armed = True
    with pytest.raises(KeyboardInterrupt):
        await bot.press("hv", yes)
    assert (
        f"Question 1 of {APPENDIX1_QUESTIONS}" in bot.dialogue("hv").text
    )  # the platform never heard
    # A new process; the member, seeing question 1 still, presses Yes again.
    restarted = ConsoleBackend(
        Runtime(Settings(), Core(db=core.db, sets=core.sets, clock=core.clock)),
        transport=transport,
    )
    await restarted.press("hv", yes)
    assert f"Question 2 of {APPENDIX1_QUESTIONS}" in restarted.dialogue("hv").text
    async with core.db.read() as s:
        answers = list(await s.exec(select(Answer)))
    assert [(a.question_id, a.choice) for a in answers] == [("risks_current", "yes")]
