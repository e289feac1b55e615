"""Away and back, through the console; on SQLite and PostgreSQL. The clock reads Monday
2 March 2026."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.records.build import build_record
from storage.models import Member, Participation, ParticipationState, ReflectionSession
from tests.factories.console import answer_all
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import at


async def _member(bot: ConsoleBackend, user: str) -> Member:
    async with bot.runtime.core.db.read() as s:
        return (await s.exec(select(Member).where(Member.user_id == user))).one()


async def test_away_for_yourself_in_either_date_form(group: ConsoleBackend):
    await group.command("sw", "away until 2026-03-20")
    assert "You are away until Fri 20 Mar" in group.last_reply("sw").text
    assert (await _member(group, "sw")).on_leave_until == date(2026, 3, 20)
    await group.command("hv", "away until 3/4/2026")  # UK reading: 3 April
    assert (await _member(group, "hv")).on_leave_until == date(2026, 4, 3)


async def test_away_in_the_past_or_unreadable_is_refused_and_changes_nothing(
    group: ConsoleBackend,
):
    await group.command("sw", "away until 2026-03-01")
    assert "That date has passed" in group.last_reply("sw").text
    await group.command("sw", "away until 31/31/2026")
    assert "not a date I understand" in group.last_reply("sw").text
    await group.command("sw", "away")
    assert "/reflect away until" in group.last_reply("sw").text
    assert (await _member(group, "sw")).on_leave_until is None


async def test_only_the_facilitator_sets_someone_else_away(group: ConsoleBackend):
    await group.command("sw", "away @hv until 2026-03-20")
    assert "Only the facilitator or an admin" in group.last_reply("sw").text
    assert (await _member(group, "hv")).on_leave_until is None
    await group.command("ro", "away @hv until 2026-03-20")
    assert "is away until Fri 20 Mar" in group.last_reply("ro").text
    assert (await _member(group, "hv")).on_leave_until == date(2026, 3, 20)
    await group.command("outsider", "away until 2026-03-20")
    assert "not in this core group" in group.last_reply("outsider").text


async def test_someone_away_is_not_asked_shows_away_and_is_recorded_as_away(
    group: ConsoleBackend,
):
    await group.command("sw", "away until 2026-03-20")
    await group.command("ro", "")
    assert group.dms("sw") == []  # not invited
    assert "away until Fri 20 Mar" in group.channel_log()[1].text
    core = group.runtime.core
    # The session's member reminders come to the others, never to someone away.
    sw = await _member(group, "sw")
    planned: list[str] = []
    for day in (3, 4, 5):
        planned += [k for k in await keys(core, at(2026, 3, day, 16)) if k.startswith("remind")]
    assert planned and all(k.split(":")[2] != str(sw.id) for k in planned)
    await answer_all(group, "hv")
    await group.command("ro", "close")
    await group.submit("ro", {"family_sharing": "Shared with dad"})
    async with core.db.read() as s:
        session_id = (await s.exec(select(ReflectionSession.id))).one()
    record = await build_record(core, session_id)
    absence = {p.name: p.absence for p in record.attendees if not p.attended}
    assert absence["sw"] == "away"
    assert absence["school"] == "did not take part"


async def test_back_during_a_session_brings_the_invitation(group: ConsoleBackend):
    await group.command("sw", "away until 2026-03-20")
    await group.command("ro", "")
    await group.command("sw", "back")
    assert "Welcome back" in group.last_reply("sw").text
    assert (await _member(group, "sw")).on_leave_until is None
    assert "Start" in [b.label for b in group.dialogue("sw").buttons()]
    await answer_all(group, "sw")
    async with group.runtime.core.db.read() as s:
        part = (
            await s.exec(
                select(Participation).where(
                    Participation.member_id == (await _member(group, "sw")).id
                )
            )
        ).one()
    assert part.state == ParticipationState.DONE
    await group.command("sw", "back")
    assert "Nobody was marked as away" in group.last_reply("sw").text


async def test_going_away_mid_session_before_beginning_pauses_the_reminders(
    group: ConsoleBackend,
):
    await group.command("ro", "")
    await group.command("hv", "away until 2026-03-20")
    async with group.runtime.core.db.read() as s:
        hv = await _member(group, "hv")
        part = (await s.exec(select(Participation).where(Participation.member_id == hv.id))).one()
    assert part.state == ParticipationState.AWAY
    before = len(group.dms("hv"))
    await group.command("ro", "remind")
    assert len(group.dms("hv")) == before
    # They may still choose to answer from the invitation they already have.
    await answer_all(group, "hv")
    assert "Thank you" in group.dialogue("hv").text
