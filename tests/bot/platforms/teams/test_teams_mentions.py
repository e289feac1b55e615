"""People @mentioned in a Teams command are known by their AAD object id, as everywhere else."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from handlers.base.core import Core
from storage.models import CoreGroup, Member
from tests.bot.platforms.teams.teams_harness import TEAM, Harness, Person, running

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")
DEE = Person("Dee Morgan", "aad-dee")


def mentioning(h: Harness, who: Person, text: str, people: list[Person]) -> dict[str, Any]:
    """``text`` with {name} placeholders turned into real Teams mentions of ``people``."""
    activity = h.in_channel(who, text.format(**{p.aad: f"<at>{p.name}</at>" for p in people}))
    activity["entities"] += [
        {
            "type": "mention",
            "text": f"<at>{p.name}</at>",
            "mentioned": {"id": p.teams_id, "name": p.name},
        }
        for p in people
    ]
    return activity


async def test_inline_setup_and_add_with_mentions_use_aad_ids(core: Core) -> None:
    async with running(core) as h:
        h.connector.members[TEAM] = [p.account() for p in (RO, SAM, DEE)]
        assert (await h.post(h.install_in_team(RO)))[0] == 200
        setup = (
            "reflect setup child=AB-1234 registered=2026-01-05 facilitator={aad-ro} "
            "members={aad-sam}:Social care"
        )
        assert (await h.post(mentioning(h, RO, setup, [RO, SAM])))[0] == 200
        add = "reflect add {aad-dee} Police"
        assert (await h.post(mentioning(h, RO, add, [DEE])))[0] == 200
        async with core.db.read() as s:
            group = (await s.exec(select(CoreGroup))).one()
            members = {m.user_id: m for m in await s.exec(select(Member))}
        assert group.facilitator_id == "aad-ro"
        assert set(members) == {"aad-ro", "aad-sam", "aad-dee"}
        assert members["aad-dee"].agency == "Police"
        assert members["aad-sam"].display_name == "Sam Social Worker"
