"""The Slack endpoint over real HTTP: signatures, malformed bodies, retries and double clicks."""

from __future__ import annotations

import json
import time

from sqlmodel import select

from storage.models import InboundSeen
from tests.fakes.slack_api import (
    FakeSlack,
    SlackHarness,
    block_actions,
    encode,
    event_callback,
    signed,
    slash_command,
)


async def seen_keys(slack: SlackHarness) -> list[str]:
    async with slack.core.db.read() as s:
        return [row.key for row in (await s.exec(select(InboundSeen))).all()]


async def test_bad_signature_is_401_and_nothing_happens(slack: SlackHarness) -> None:
    sent = await slack.send(slash_command("help", user="U0RO", channel="C0G"), secret="wrong")
    assert sent.status == 401
    assert slack.fake.calls == []
    assert await seen_keys(slack) == []


async def test_unsigned_request_is_401(slack: SlackHarness) -> None:
    body, content_type = encode(slash_command("help", user="U0RO", channel="C0G"))
    sent = await slack.post_raw(body, {"Content-Type": content_type})
    assert sent.status == 401
    assert slack.fake.calls == []


async def test_stale_request_replayed_after_five_minutes_is_401(slack: SlackHarness) -> None:
    payload = slash_command("help", user="U0RO", channel="C0G")
    sent = await slack.send(payload, timestamp=int(time.time()) - 6 * 60)
    assert sent.status == 401
    assert slack.fake.calls == []


async def test_malformed_signed_payload_is_400_not_500(slack: SlackHarness) -> None:
    for body in ('{"type": "event_callback"}', "{oops", "payload=%7B"):
        content_type = "application/x-www-form-urlencoded" if "=" in body else "application/json"
        sent = await slack.post_raw(
            body, signed("test-signing-secret", body, content_type=content_type)
        )
        assert sent.status == 400
    assert slack.fake.calls == []


async def test_url_verification_echoes_the_challenge(slack: SlackHarness) -> None:
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c-123"})
    sent = await slack.post_raw(body, signed("test-signing-secret", body))
    assert sent.status == 200
    assert "c-123" in sent.text


async def test_help_is_answered_only_to_the_person_who_asked(slack: SlackHarness) -> None:
    sent = await slack.send(slash_command("help", user="U0RO", channel="C0GROUP"))
    assert sent.status == 200
    [reply] = slack.fake.delivered("chat.postEphemeral")
    assert reply.body["user"] == "U0RO" and reply.body["channel"] == "C0GROUP"
    assert "/reflect" in " ".join(slack.fake.texts("chat.postEphemeral"))
    assert slack.fake.violations == []


async def test_event_retries_with_the_same_event_id_are_handled_once(
    slack: SlackHarness,
) -> None:
    event = {"type": "app_home_opened", "user": "U0SAM", "channel": "D0SAM", "tab": "home"}
    payload = event_callback(event, event_id="Ev0RETRY")
    first = await slack.send(payload)
    again = await slack.send(payload, retry=1)
    third = await slack.send(payload, retry=2)
    assert (first.status, again.status, third.status) == (200, 200, 200)
    assert len(slack.fake.delivered("views.publish")) == 1
    assert slack.fake.of("views.publish")[0].body["user_id"] == "U0SAM"


async def test_double_delivery_of_a_click_does_nothing_twice(slack: SlackHarness) -> None:
    click = block_actions(
        "dlg.start", "999999", user="U0SAM", channel="D0SAM", message_ts="1700000000.000009"
    )
    await slack.send(click)
    after_first = len(slack.fake.calls)
    await slack.send(click)
    assert after_first >= 1  # the stale button got a kind answer
    assert len(slack.fake.calls) == after_first
    assert slack.fake.violations == []


async def test_rate_limited_reply_is_retried_after_retry_after_and_arrives_once(
    slack: SlackHarness,
) -> None:
    slack.fake.fail("chat.postEphemeral", 1, status=429, retry_after=0)
    await slack.send(slash_command("help", user="U0RO", channel="C0GROUP"))
    assert len(slack.fake.of("chat.postEphemeral")) == 2
    assert len(slack.fake.delivered("chat.postEphemeral")) == 1


async def test_server_error_is_retried_and_arrives_once(slack: SlackHarness) -> None:
    slack.fake.fail("chat.postEphemeral", 1, status=500)
    await slack.send(slash_command("help", user="U0RO", channel="C0GROUP"))
    assert len(slack.fake.of("chat.postEphemeral")) == 2
    assert len(slack.fake.delivered("chat.postEphemeral")) == 1


async def test_reply_falls_back_to_response_url_when_bot_is_not_in_channel(
    slack: SlackHarness, fake_slack: FakeSlack
) -> None:
    fake_slack.error("chat.postEphemeral", "not_in_channel")
    payload = slash_command(
        "help", user="U0RO", channel="C0OTHER", response_url=fake_slack.response_url("cmd1")
    )
    await slack.send(payload)
    [answer] = fake_slack.of("response_url")
    assert answer.body["response_type"] == "ephemeral"
    assert fake_slack.violations == []
