"""Members leave: `/reflect remove`, and the facilitator's question when someone leaves the
channel; through the console, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ORG, PLATFORM, ConsoleBackend
from handlers.base.events import Actor, Left
from handlers.records.build import build_record
from storage.models import Answer, Member, Participation, ParticipationState, ReflectionSession
from tests.factories.console import answer_all


async def _member(bot: ConsoleBackend, user: str) -> Member:
    async with bot.runtime.core.db.read() as s:
        return (await s.exec(select(Member).where(Member.user_id == user))).one()


async def _close(bot: ConsoleBackend) -> None:
    await bot.command("ro", "close")
    await bot.submit("ro", {"family_sharing": "Shared with mum"})


async def test_removed_mid_session_their_unsubmitted_answers_go_and_the_record_says_so(
    group: ConsoleBackend,
):
    await group.command("ro", "")
    await answer_all(group, "hv")  # submitted: stays in the record
    await group.click("sw", "Start")
    await group.click("sw", "Yes")  # begun, never submitted
    await group.command("ro", "remove @sw")
    assert "has left this core group" in group.channel_log()[-1].text
    assert not (await _member(group, "sw")).active
    core = group.runtime.core
    async with core.db.read() as s:
        sw = await _member(group, "sw")
        assert list(await s.exec(select(Answer).where(Answer.member_id == sw.id))) == []
        part = (await s.exec(select(Participation).where(Participation.member_id == sw.id))).one()
        assert part.state == ParticipationState.LEFT
    assert "left this core group" in group.dialogue("sw").text  # their questions are closed
    assert group.dialogue("sw").buttons() == []
    assert "Sam" not in group.channel_log()[1].text  # no longer listed in the progress
    sw_messages = len(group.dms("sw"))
    await group.command("ro", "remind")
    assert len(group.dms("sw")) == sw_messages  # not reminded
    await _close(group)
    assert not any("Record of Core Group" in d.text for d in group.dms("sw"))
    assert any("Record of Core Group" in d.text for d in group.dms("hv"))
    async with core.db.read() as s:
        session_id = (await s.exec(select(ReflectionSession.id))).one()
    record = await build_record(core, session_id)
    people = {p.name: p for p in record.attendees}
    assert people["Sam"].absence == "left the group" and not people["Sam"].attended
    assert people["Hana"].attended
    assert "SECRET" in str(record.questions)  # Hana's submitted answers stay


async def test_only_the_facilitator_removes_and_never_the_facilitator(group: ConsoleBackend):
    await group.command("sw", "remove @hv")
    assert "Only the facilitator or an admin can remove members" in group.last_reply("sw").text
    assert (await _member(group, "hv")).active
    await group.command("ro", "remove @ro")
    assert "can't remove the facilitator" in group.last_reply("ro").text
    await group.command("ro", "remove @nobody")
    assert "not in this core group" in group.last_reply("ro").text
    await group.command("ro", "remove")
    assert "/reflect remove @name" in group.last_reply("ro").text


async def test_a_removed_member_is_not_invited_next_time(group: ConsoleBackend):
    await group.command("ro", "remove @school")
    await group.command("ro", "")
    assert group.dms("school") == []
    assert len(group.dms("sw")) == 1


async def _left(bot: ConsoleBackend, who: str) -> None:
    await bot.send(Left(Actor(PLATFORM, ORG, who), bot.channel, people=(who,)))


async def test_leaving_the_channel_asks_the_facilitator_and_changes_nothing(
    group: ConsoleBackend,
):
    await _left(group, "school")
    ask = group.last_dm("ro")
    assert "school has left the channel for AB-1234. Remove them from the core group?" in ask.text
    assert (await _member(group, "school")).active  # nothing happens by itself
    await group.click("sw", "Yes, remove", ask)
    assert "Only the facilitator" in group.last_reply("sw").text
    await group.click("ro", "No, keep them", ask)
    assert "school stays in the core group" in group.last_reply("ro").text
    assert (await _member(group, "school")).active
    await group.click("ro", "Yes, remove", ask)
    assert not (await _member(group, "school")).active
    await group.click("ro", "Yes, remove", ask)  # pressed twice: kindly refused
    assert "not in this core group" in group.last_reply("ro").text


async def test_someone_outside_the_group_leaving_asks_nobody(group: ConsoleBackend):
    before = len(group.dms("ro"))
    await _left(group, "stranger")
    await _left(group, "ro")  # the facilitator themselves: nobody to ask
    assert len(group.dms("ro")) == before
