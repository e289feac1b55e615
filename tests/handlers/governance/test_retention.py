"""Retention: answers go after the answer period, the record after the record period, and the
audit log stays verifiable after its old events are purged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from handlers.governance import retention
from handlers.records.build import build_record
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    AuditEvent,
    Delivery,
    InboundSeen,
    Participation,
    ReflectionSession,
)
from tests.factories.console import NOTES, SECRET, full_session
from tests.factories.rows import add_delivery, add_organisation


def _bot(core: Core) -> ConsoleBackend:
    return ConsoleBackend(Runtime(settings=Settings(), core=core))


async def _count(core: Core, model: type) -> int:
    async with core.db.read() as s:
        return len(list(await s.exec(select(model))))


async def test_answers_go_after_the_answer_period_and_the_record_stays(core: Core, clock):
    bot = _bot(core)
    sid = await full_session(bot)
    closed_at = clock()
    before = await build_record(core, sid)
    assert {p.name for p in before.attendees if p.attended} == {"Hana", "Sam"}

    early = await retention.purge(core, closed_at + timedelta(days=89))
    assert early.counts.get("answers", 0) == 0 and await _count(core, Answer) > 0

    report = await retention.purge(core, closed_at + timedelta(days=91))
    assert report.counts["answers"] > 0
    assert await _count(core, Answer) == 0
    # The record itself is kept: positions, notes, actions, themes and who took part.
    assert await _count(core, AgreedPosition) == 1 and await _count(core, ActionItem) == 1
    after = await build_record(core, sid)
    assert {p.name for p in after.attendees if p.attended} == {"Hana", "Sam"}
    assert len([p for p in after.attendees if not p.attended]) == 1  # school never answered
    assert after.themes == before.themes
    async with core.db.read() as s:
        session = await s.get(ReflectionSession, sid)
        events = list(
            await s.exec(select(AuditEvent).where(AuditEvent.action == "retention.purged"))
        )
    assert session is not None and session.family_sharing == f"{NOTES} family sharing"
    assert events and events[-1].detail["counts"]["answers"] == report.counts["answers"]
    assert SECRET not in str(events[-1].detail)


async def test_the_whole_session_goes_after_the_record_period(core: Core, clock):
    bot = _bot(core)
    await full_session(bot)
    closed_at = clock()
    kept = await retention.purge(core, closed_at + timedelta(days=2554))
    assert await _count(core, ReflectionSession) == 1 and not kept.counts.get("sessions")
    gone = await retention.purge(core, closed_at + timedelta(days=2556))
    assert gone.counts["sessions"] == 1
    for model in (ReflectionSession, Participation, Answer, AgreedPosition, ActionItem):
        assert await _count(core, model) == 0, model.__name__


async def test_open_sessions_are_never_purged(core: Core, clock):
    bot = _bot(core)
    await full_session(bot)
    await bot.command("ro", "")  # a second session, still open
    invite = bot.last_dm("hv")
    await bot.click("hv", "Start", invite)
    await bot.click("hv", "Yes", invite)
    await retention.purge(core, clock() + timedelta(days=5000))
    async with core.db.read() as s:
        sessions = list(await s.exec(select(ReflectionSession)))
        answers = list(await s.exec(select(Answer)))
    assert [x.status for x in sessions] == ["open"] and len(answers) == 1


async def test_dry_run_counts_and_deletes_nothing(core: Core, clock):
    bot = _bot(core)
    await full_session(bot)
    answers = await _count(core, Answer)
    report = await retention.purge(core, clock() + timedelta(days=91), dry_run=True)
    assert report.dry_run and report.counts["answers"] == answers
    assert await _count(core, Answer) == answers
    async with core.db.read() as s:
        purged = list(
            await s.exec(select(AuditEvent).where(AuditEvent.action == "retention.purged"))
        )
    assert purged == []


async def test_dedupe_keys_and_finished_ledger_rows_are_purged(core: Core, clock):
    now = clock()
    async with core.db.write() as s:
        org = await add_organisation(s, external_id="o1")
        s.add(InboundSeen(key="old", seen_at=now - timedelta(days=8)))
        s.add(InboundSeen(key="new", seen_at=now - timedelta(days=1)))
        for key, status, age in (
            ("sent-old", "sent", 91),
            ("sent-new", "sent", 10),
            ("due", "pending", 200),
        ):
            when = now - timedelta(days=age)
            sent_at = when if status == "sent" else None
            await add_delivery(s, org, key, when, status=status, sent_at=sent_at)
    report = await retention.purge(core, now)
    assert report.counts["inbound_seen"] == 1 and report.counts["deliveries"] == 1
    async with core.db.read() as s:
        seen = {r.key for r in await s.exec(select(InboundSeen))}
        ledger = {r.key for r in await s.exec(select(Delivery))}
    assert seen == {"new"} and ledger == {"sent-new", "due"}


async def test_old_audit_events_go_and_the_chain_still_verifies(core: Core, clock):
    bot = _bot(core)
    await full_session(bot)
    clock.advance(days=400)
    await bot.command("ro", "")  # newer events
    core.audit_retention_days = 365
    report = await retention.purge(core, clock())
    assert report.counts["audit_events"] > 0
    async with core.db.read() as s:
        events = list(await s.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    assert events[0].action == "session.opened" and events[0].prev_hash != ""
    assert retention.verify_log(events) is None
    # A forged anchor (someone deleting the start of the log) is caught.
    async with core.db.write() as s:
        conn = await s.connection()
        await conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[0].id})
    async with core.db.read() as s:
        rest = list(await s.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    assert retention.verify_log(rest) == rest[0].id
