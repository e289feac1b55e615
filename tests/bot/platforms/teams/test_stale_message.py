"""A member is never left looking at a stale card when Teams will not update it (issue 17,
item 7): over real HTTP, with the fake Bot Connector refusing the card's update."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.base.core import Core
from tests.bot.platforms.teams.teams_harness import (
    TEAM,
    Harness,
    Person,
    actions,
    fill_form,
    latest_form,
    personal_of,
    press,
    running,
    text_of,
)
from tests.fakes.bot_connector import Call

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")


def verb(card: Call, name: str) -> dict[str, Any]:
    return next(a["data"] for a in actions(card) if a.get("data", {}).get("verb") == name)


async def invite_sam(h: Harness) -> Call:
    """Install, set up a group with Sam in it, start: Sam's invitation card."""
    h.connector.members[TEAM] = [p.account() for p in (RO, SAM)]
    assert (await h.post(h.install_in_team(RO)))[0] == 200
    assert (await h.post(h.in_channel(RO, "reflect setup")))[0] == 200
    form = latest_form(h, personal_of(h, RO), "group.setup")
    values = {
        "child_ref": "AB-1234",
        "registered_on": "2026-01-05",
        "pre_birth": "false",
        "facilitator": RO.aad,
        "anchor": "registration",
        "member_1": SAM.aad,
        "agency_1": "Children's social care",
    }
    await fill_form(h, RO, form, values)
    assert (await h.post(h.in_channel(RO, "reflect")))[0] == 200
    invitation = h.connector.screen(personal_of(h, SAM))[-1]
    assert "dlg.start" in {a["data"].get("verb") for a in actions(invitation)}
    return invitation


@pytest.mark.parametrize(
    "status",
    [404, 500, 502],  # gone, a permanent error, and a retried one that never recovers
)
async def test_a_refused_update_sends_the_question_as_a_new_card_and_the_next_click_updates_it(
    core: Core, status: int
) -> None:
    async with running(core) as h:
        fake = h.connector
        invitation = await invite_sam(h)
        chat = personal_of(h, SAM)
        fake.fail(status, times=50, path_contains=f"/activities/{invitation.result_id}")

        await press(h, SAM, invitation, verb(invitation, "dlg.start"))

        # Question 1 arrives as a new card; the invitation's update was refused.
        new = fake.screen(chat)[-1]
        assert new.method == "POST" and new.result_id != invitation.result_id
        assert "Question 1 of" in text_of(new)
        assert any(c.activity_id == invitation.result_id for c in fake.updates())

        # The next click updates the new card in place; nothing new is sent.
        sends_before = len(fake.sends())
        await press(h, SAM, new, verb(new, "dlg.answer"))
        await h.adapter.drain()
        updated = fake.updates()[-1]
        assert (updated.conversation, updated.activity_id) == (chat, new.result_id)
        assert updated.result_id == new.result_id  # the fake accepted it
        assert "Question 2 of" in text_of(updated)
        assert len(fake.sends()) == sends_before
        assert fake.screen(chat)[-1].result_id == new.result_id
