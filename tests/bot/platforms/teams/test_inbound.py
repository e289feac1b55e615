"""Each kind of Teams activity becomes the neutral event a person would expect."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.platforms.teams import inbound
from bot.platforms.teams.inbound import MalformedActivity
from handlers.base.core import Core
from handlers.base.events import Command, FormSubmit, Joined, Press, TypedText
from storage.models import CoreGroup, Member
from tests.bot.platforms.teams.teams_harness import TEAM, Harness, Person, running

BOT = "28:bot"
TENANT = "tenant-1"


def activity(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "message",
        "id": "1",
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/emea/",
        "from": {"id": "29:u1", "aadObjectId": "aad-u1", "name": "Sam Smith"},
        "recipient": {"id": BOT, "name": "Core group bot"},
        "conversation": {"id": "a:personal-u1", "conversationType": "personal"},
        "channelData": {"tenant": {"id": TENANT}},
        "text": "",
    }
    base.update(overrides)
    return base


def event_of(payload: dict[str, Any]) -> Any:
    parsed = inbound.parse(payload)
    return inbound.to_event(parsed, inbound.origin(parsed))


def test_channel_mention_with_reflect_is_a_command_for_that_channel() -> None:
    event = event_of(
        activity(
            text="<at>Core group bot</at> reflect setup&nbsp;\n",
            conversation={
                "id": "19:abc@thread.tacv2;messageid=1700000000000",
                "conversationType": "channel",
                "isGroup": True,
            },
        )
    )
    assert event == Command(
        actor=inbound.actor(inbound.origin(inbound.parse(activity()))),
        text="setup",
        channel_id="19:abc@thread.tacv2",
    )
    assert event.actor.org == TENANT
    assert event.actor.user_id == "aad-u1"
    assert event.actor.platform == "teams"


def test_the_tenant_comes_from_the_conversation_when_channel_data_lacks_it() -> None:
    payload = activity(
        channelData={},
        conversation={"id": "a:x", "conversationType": "personal", "tenantId": "tenant-2"},
        text="hello",
    )
    assert event_of(payload).actor.org == "tenant-2"


def test_personal_chat_text_is_typed_text_and_reflect_is_a_direct_command() -> None:
    typed = event_of(activity(text="The school has noticed <b>more</b> absences"))
    assert isinstance(typed, TypedText)
    assert typed.text == "The school has noticed more absences"
    assert typed.is_direct
    command = event_of(activity(text="Reflect help"))
    assert isinstance(command, Command)
    assert (command.text, command.is_direct, command.channel_id) == ("help", True, None)


def test_people_mentioned_in_a_command_become_id_tokens_and_the_bot_is_dropped() -> None:
    event = event_of(
        activity(
            text="<at>Core group bot</at> reflect add <at>Alex</at> health <at>Evil</at>",
            conversation={"id": "19:c@thread.tacv2", "conversationType": "channel"},
            entities=[
                {"type": "mention", "text": "<at>Core group bot</at>", "mentioned": {"id": BOT}},
                {"type": "mention", "text": "<at>Alex</at>", "mentioned": {"id": "29:alex"}},
            ],
        )
    )
    assert event.text.split() == ["add", "@29:alex", "health"]


def test_action_submit_button_is_a_press_with_ids_only() -> None:
    event = event_of(activity(value={"verb": "dlg.answer", "value": "12:q1:yes"}))
    assert isinstance(event, Press)
    assert (event.action, event.value, event.channel_id) == ("dlg.answer", "12:q1:yes", None)


def test_action_submit_of_a_form_is_a_form_submit_with_typed_values() -> None:
    value = {
        "form_id": "dialogue.text",
        "state": "12:q3",
        "_kinds": {"text": "multiline", "share": "check"},
        "in_text": "We talked to the child.",
        "in_share": "false",
    }
    event = event_of(activity(value=value))
    assert event == FormSubmit(
        actor=event.actor,
        form_id="dialogue.text",
        values={"text": "We talked to the child.", "share": False},
        state="12:q3",
    )


def test_action_execute_invoke_is_a_press() -> None:
    payload = activity(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "dlg.start", "data": {"value": "5"}}},
    )
    event = event_of(payload)
    assert isinstance(event, Press)
    assert (event.action, event.value) == ("dlg.start", "5")


def test_bot_added_to_a_team_is_joined_but_other_members_added_are_not() -> None:
    channel = {"id": "19:c@thread.tacv2", "conversationType": "channel"}
    added_bot = activity(
        type="conversationUpdate", conversation=channel, membersAdded=[{"id": BOT}]
    )
    event = event_of(added_bot)
    assert isinstance(event, Joined) and event.channel_id == "19:c@thread.tacv2"
    person = {"id": "29:new", "aadObjectId": "aad-new", "name": "New"}
    added_person = activity(type="conversationUpdate", conversation=channel, membersAdded=[person])
    assert event_of(added_person) is None
    parsed = inbound.parse(added_person)
    assert inbound.added_members(parsed, inbound.origin(parsed)) == [("aad-new", "29:new", "New")]


def test_installation_update_add_is_joined_and_remove_is_ignored() -> None:
    assert isinstance(event_of(activity(type="installationUpdate", action="add")), Joined)
    assert event_of(activity(type="installationUpdate", action="remove")) is None


def test_activities_the_bot_does_not_use_are_ignored() -> None:
    assert event_of(activity(type="typing")) is None
    assert event_of(activity(type="messageReaction")) is None
    assert event_of(activity(text="   ")) is None


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "text",
        {"id": "1"},
        {"type": 5},
        activity(conversation=None),
        activity(**{"from": None}),
        activity(serviceUrl=None),
        activity(channelData={}, conversation={"id": "a:1", "conversationType": "personal"}),
    ],
)
def test_malformed_activities_are_refused(payload: Any) -> None:
    with pytest.raises(MalformedActivity):
        parsed = inbound.parse(payload)
        inbound.origin(parsed)


# ---- over the endpoint: people @mentioned are known by their AAD object id, as everywhere else --

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")
DEE = Person("Dee Morgan", "aad-dee")


def mentioning(h: Harness, who: Person, text: str, people: list[Person]) -> dict[str, Any]:
    """``text`` with {name} placeholders turned into real Teams mentions of ``people``."""
    message = h.in_channel(who, text.format(**{p.aad: f"<at>{p.name}</at>" for p in people}))
    message["entities"] += [
        {
            "type": "mention",
            "text": f"<at>{p.name}</at>",
            "mentioned": {"id": p.teams_id, "name": p.name},
        }
        for p in people
    ]
    return message


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
