"""Someone is removed from the core group's Teams team: the facilitator is asked privately, over
real HTTP against a fake Bot Connector; nothing changes until they answer."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from handlers.base.core import Core
from storage.models import Member
from tests.bot.platforms.teams.teams_harness import (
    BOT_ID,
    CHANNEL,
    TEAM,
    Harness,
    Person,
    actions,
    personal_of,
    press,
    running,
    text_of,
)

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")
HV = Person("Hana Health Visitor", "aad-hv")
SETUP = (
    "reflect setup child=AB-1234 registered=2026-01-05 facilitator=aad-ro "
    "members=aad-sam:Social care;aad-hv:Health visiting"
)


def removed(h: Harness, who: Person, *gone: Person) -> dict[str, Any]:
    activity = h._base(
        who,
        {"id": CHANNEL, "conversationType": "channel", "isGroup": True},
        type="conversationUpdate",
        membersRemoved=[p.account() for p in gone],
    )
    activity["channelData"].update(
        {"team": {"id": TEAM}, "channel": {"id": CHANNEL}, "eventType": "teamMemberRemoved"}
    )
    return activity


async def _active(core: Core, user: str) -> bool:
    async with core.db.read() as s:
        return (await s.exec(select(Member).where(Member.user_id == user))).one().active


async def test_removed_from_the_team_the_facilitator_is_asked_and_decides(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector
        fake.members[TEAM] = [p.account() for p in (RO, SAM, HV)]
        assert (await h.post(h.install_in_team(RO)))[0] == 200
        assert (await h.post(h.in_channel(RO, SETUP)))[0] == 200
        assert await _active(core, SAM.aad)
        fake.clear()
        status, _ = await h.post(removed(h, RO, SAM))
        assert status == 200
        chat = personal_of(h, RO)
        [question] = [c for c in fake.screen(chat) if "Remove them" in text_of(c)]
        verbs = {a["data"]["verb"]: a for a in actions(question)}
        assert set(verbs) == {"member.remove", "member.keep"}
        assert await _active(core, SAM.aad)  # nothing happens by itself
        await press(h, RO, question, verbs["member.keep"]["data"])
        assert await _active(core, SAM.aad)
        await press(h, RO, question, verbs["member.remove"]["data"])
        assert not await _active(core, SAM.aad)
        assert any("has left this core group" in text_of(c) for c in fake.to(CHANNEL))


async def test_the_bot_removed_asks_nobody(core: Core) -> None:
    async with running(core) as h:
        h.connector.members[TEAM] = [p.account() for p in (RO, SAM, HV)]
        await h.post(h.install_in_team(RO))
        await h.post(h.in_channel(RO, SETUP))
        h.connector.clear()
        activity = removed(h, RO)
        activity["membersRemoved"] = [{"id": BOT_ID}]
        assert (await h.post(activity))[0] == 200
        assert h.connector.sends() == []
        assert await _active(core, SAM.aad)


def test_members_removed_becomes_one_left_event_for_everyone_removed() -> None:
    from bot.platforms.teams import inbound
    from handlers.base.events import Left
    from tests.bot.platforms.teams.teams_harness import FakeBotConnector

    connector = FakeBotConnector()
    connector.url = "https://smba.trafficmanager.net/uk/"
    h = Harness(connector, "http://unused", None)  # type: ignore[arg-type]
    parsed = inbound.parse(removed(h, RO, SAM, HV))
    event = inbound.to_event(parsed, inbound.origin(parsed))
    assert isinstance(event, Left)
    assert event.people == (SAM.aad, HV.aad) and event.channel_id == CHANNEL
