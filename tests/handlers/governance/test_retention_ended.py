"""Retention of ended core groups: the clock starts when the plan ends (`/reflect end`) and
stops again if the group resumes; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from handlers.governance import retention
from storage.models import ActionItem, CoreGroup, Delivery, Member, ReflectionSession
from tests.factories.console import full_session

RECORD_DAYS = 2555


def _bot(core: Core) -> ConsoleBackend:
    return ConsoleBackend(Runtime(settings=Settings(), core=core))


async def _count(core: Core, model: type) -> int:
    async with core.db.read() as s:
        return len(list(await s.exec(select(model))))


async def test_an_ended_group_goes_the_record_period_after_it_ended(core: Core, clock):
    bot = _bot(core)
    await full_session(bot)
    clock.advance(days=400)  # the plan runs on, then ends
    await bot.command("ro", "end")
    ended_at = clock()
    kept = await retention.purge(core, ended_at + timedelta(days=RECORD_DAYS - 1))
    assert not kept.counts.get("groups")
    assert await _count(core, CoreGroup) == 1 and await _count(core, Member) > 0
    gone = await retention.purge(core, ended_at + timedelta(days=RECORD_DAYS + 1))
    assert gone.counts["groups"] == 1
    for model in (CoreGroup, Member, ReflectionSession, ActionItem, Delivery):
        assert await _count(core, model) == 0, model.__name__


async def test_a_group_that_has_not_ended_or_was_resumed_is_kept(core: Core, clock):
    bot = _bot(core)
    await full_session(bot)
    await bot.command("ro", "end")
    await bot.command("ro", "resume")  # the clock stops again
    later = clock() + timedelta(days=RECORD_DAYS * 2)
    report = await retention.purge(core, later)
    assert not report.counts.get("groups")
    assert await _count(core, CoreGroup) == 1 and await _count(core, Member) > 0
