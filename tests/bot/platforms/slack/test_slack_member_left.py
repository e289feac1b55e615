"""Someone leaves a core group's Slack channel: the facilitator is asked privately, over real
HTTP with signed requests and the fake Slack Web API; nothing changes until they answer."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.models import Member
from tests.fakes.slack_api import SlackHarness, block_actions, event_callback, slash_command

RO, SAM, HV = "U0RO0001", "U0SAM001", "U0HV0001"
CHANNEL = "C0GROUP01"
SETUP = (
    f"setup child=AB-1234 registered=2026-01-05 facilitator=<@{RO}|rita> "
    f"members=<@{SAM}|sam>:Social care;<@{HV}|hana>:Health visiting"
)


def _left(user: str) -> dict[str, Any]:
    event = {
        "type": "member_left_channel",
        "user": user,
        "channel": CHANNEL,
        "channel_type": "C",
        "team": "T0001",
    }
    return event_callback(event)


def _question(slack: SlackHarness) -> tuple[str, str, list[dict[str, Any]]]:
    """(DM channel, ts, buttons) of the question to the facilitator."""
    for call in slack.fake.delivered("chat.postMessage"):
        blocks = call.body.get("blocks") or []
        buttons = [el for b in blocks if b.get("type") == "actions" for el in b["elements"]]
        if any(el.get("action_id") == "member.remove" for el in buttons):
            return call.response["channel"], call.response["ts"], buttons
    raise AssertionError("no question to the facilitator")


async def _active(slack: SlackHarness, user: str) -> bool:
    async with slack.core.db.read() as s:
        return (await s.exec(select(Member).where(Member.user_id == user))).one().active


async def test_leaving_the_channel_asks_the_facilitator_who_removes_them(slack: SlackHarness):
    assert (await slack.send(slash_command(SETUP, user=RO, channel=CHANNEL))).status == 200
    sent = await slack.send(_left(SAM))
    assert sent.status == 200
    dm, ts, buttons = _question(slack)
    opened = [c for c in slack.fake.delivered("conversations.open") if c.body.get("users") == RO]
    assert opened, "the question goes to the facilitator's DM"
    assert "Remove them from the core group?" in " ".join(slack.fake.texts("chat.postMessage"))
    assert [b["text"]["text"] for b in buttons] == ["Yes, remove", "No, keep them"]
    assert await _active(slack, SAM)  # nothing happens by itself
    yes = buttons[0]
    # Someone else pressing it changes nothing.
    await slack.send(
        block_actions(yes["action_id"], yes["value"], user=HV, channel=dm, message_ts=ts)
    )
    assert await _active(slack, SAM)
    await slack.send(
        block_actions(yes["action_id"], yes["value"], user=RO, channel=dm, message_ts=ts)
    )
    assert not await _active(slack, SAM)
    posted = [c for c in slack.fake.delivered("chat.postMessage") if c.body["channel"] == CHANNEL]
    assert "has left this core group" in posted[-1].body["text"]


async def test_the_bot_leaving_or_a_stranger_asks_nobody(slack: SlackHarness):
    await slack.send(slash_command(SETUP, user=RO, channel=CHANNEL))
    before = len(slack.fake.delivered("chat.postMessage"))
    await slack.send(_left("UBOTUSER"))
    await slack.send(_left("U0STRANGE"))
    assert len(slack.fake.delivered("chat.postMessage")) == before


def test_the_manifest_subscribes_to_people_leaving_channels():
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load(
        (Path(__file__).parents[4] / "bot/platforms/slack/manifest.yaml").read_text()
    )
    assert "member_left_channel" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"channels:read", "groups:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_member_left_channel_becomes_a_left_event_naming_the_person():
    from bot.platforms.slack.inbound import translate
    from handlers.base.events import Actor, Left

    inbound = translate(_left(SAM), bot_user_id="UBOTUSER")
    assert inbound.event == Left(Actor("slack", "T0001", SAM), channel_id=CHANNEL, people=(SAM,))
    assert translate(_left("UBOTUSER"), bot_user_id="UBOTUSER").event is None
