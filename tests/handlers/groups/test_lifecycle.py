"""End, resume and hand over a core group, through the console; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.messages import spans_text
from handlers.scheduling.deliveries import Send
from handlers.scheduling.kinds import render
from storage.models import AuditEvent, CoreGroup, GroupStatus, Member, MemberRole, StaffRole
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import at
from tests.handlers.conftest import SETUP


async def _group(bot: ConsoleBackend) -> CoreGroup:
    async with bot.runtime.core.db.read() as s:
        return (await s.exec(select(CoreGroup))).one()


def _said(bot: ConsoleBackend, user: str) -> str:
    return bot.last_reply(user).text


async def test_a_group_with_an_open_session_cannot_end(group: ConsoleBackend):
    await group.command("ro", "")
    await group.command("ro", "end plan ended at review")
    assert "Close it or cancel it first" in _said(group, "ro")
    assert (await _group(group)).status == GroupStatus.ACTIVE


async def test_ending_stops_every_nudge_and_resume_counts_from_the_last_supervision(
    group: ConsoleBackend, clock
):
    core = group.runtime.core
    # Registered 5 Jan: due 5 Apr, nudged two weeks ahead. Active, it would hear on 23 Mar.
    assert any(k.startswith("nudge") for k in await keys(core, at(2026, 3, 23), dry_run=True))
    await group.command("ro", "end the child moved to another area")
    ended = await _group(group)
    assert ended.status == GroupStatus.ENDED and ended.ended_at == clock()
    assert ended.ended_reason == "the child moved to another area"
    post = group.channel_log()[-1].text
    assert "has ended" in post and "Reason: the child moved to another area" in post
    for day in (at(2026, 3, 23), at(2026, 4, 5), at(2026, 5, 3)):
        assert await keys(core, day) == []
    await group.command("ro", "resume")
    resumed = await _group(group)
    assert resumed.status == GroupStatus.ACTIVE and resumed.ended_at is None
    assert resumed.schedule_anchor == "last_held"
    assert "active again" in group.channel_log()[-1].text
    actions = [e.action for e in await _audit(group)]
    assert "group.ended" in actions and "group.resumed" in actions


async def _audit(bot: ConsoleBackend) -> list[AuditEvent]:
    async with bot.runtime.core.db.read() as s:
        return list(await s.exec(select(AuditEvent).order_by(AuditEvent.id)))


async def test_only_the_facilitator_or_an_admin_can_end_or_resume(group: ConsoleBackend):
    await group.command("sw", "end")
    assert "Only the facilitator or an admin can end this group" in _said(group, "sw")
    assert (await _group(group)).status == GroupStatus.ACTIVE
    await group.command("ro", "end")
    await group.command("sw", "resume")
    assert "Only the facilitator or an admin" in _said(group, "sw")
    assert (await _group(group)).status == GroupStatus.ENDED
    await group.command("ro", "end")
    assert "already ended" in _said(group, "ro")
    async with group.runtime.core.db.write() as s:
        org_id = (await _group(group)).org_id
        s.add(StaffRole(org_id=org_id, user_id="boss", role="admin"))
    await group.command("boss", "resume")
    assert (await _group(group)).status == GroupStatus.ACTIVE
    await group.command("boss", "resume")
    assert "nothing to resume" in _said(group, "boss")


async def test_setup_again_does_not_reactivate_an_ended_group(group: ConsoleBackend):
    await group.command("ro", "end")
    await group.command("ro", SETUP)
    assert "Use `/reflect resume` first" in _said(group, "ro")
    assert (await _group(group)).status == GroupStatus.ENDED


async def test_an_ended_group_shows_under_ended_in_the_home(group: ConsoleBackend):
    await group.command("ro", "end")
    for user in ("ro", "sw"):
        home = await group.home(user)
        texts = [spans_text(b.spans) for b in home.blocks if hasattr(b, "spans")]
        at_ended = texts.index("Ended")
        assert texts[at_ended + 1].startswith("AB-1234 · ended on Mon 2 Mar")
        assert "Start supervision" not in str(home.blocks)


async def test_handover_tells_everyone_and_the_new_facilitator_closes_the_open_session(
    group: ConsoleBackend,
):
    await group.command("ro", "")
    await group.command("ro", "handover @newro")
    assert (await _group(group)).facilitator_id == "newro"
    assert "now leads this core group" in group.channel_log()[-1].text
    assert "You now lead the core group for AB-1234" in group.last_dm("newro").text
    assert "newro now leads the core group for AB-1234" in group.last_dm("ro").text
    await group.command("ro", "close")
    assert "Only the facilitator" in _said(group, "ro")
    await group.command("newro", "close")
    assert group.form("newro") is not None
    async with group.runtime.core.db.read() as s:
        people = {m.user_id: m for m in await s.exec(select(Member))}
    assert people["newro"].role == MemberRole.FACILITATOR and people["newro"].active
    assert not people["ro"].active
    handover = [e for e in await _audit(group) if e.action == "group.handover"]
    assert handover[0].detail == {"old": "ro", "new": "newro"}


async def test_handover_to_the_chair_or_by_a_member_is_refused(group: ConsoleBackend):
    await group.command("ro", "handover @chair")
    assert "conference chair for this child can't lead" in _said(group, "ro")
    await group.command("sw", "handover @sw")
    assert "Only the facilitator or an admin can hand this group over" in _said(group, "sw")
    await group.command("ro", "handover")
    assert "/reflect handover @name" in _said(group, "ro")
    assert (await _group(group)).facilitator_id == "ro"


async def test_a_nudge_already_planned_is_not_sent_once_the_group_ended(group: ConsoleBackend):
    core = group.runtime.core
    (nudge,) = [k for k in await keys(core, at(2026, 3, 23)) if k.startswith("nudge")]
    assert isinstance(await render(core, await row(core, nudge), at(2026, 3, 23)), Send)
    await group.command("ro", "end")
    assert not isinstance(await render(core, await row(core, nudge), at(2026, 3, 23)), Send)
