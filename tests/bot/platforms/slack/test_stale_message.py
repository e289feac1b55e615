"""A member is never left looking at a stale question when Slack will not edit a message
(issue 17, item 7): over real HTTP, with the fake Slack refusing ``chat.update``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.platforms.slack.slack_screens import SlackScreen, buttons_of, press
from tests.fakes.slack_api import FakeSlack, SlackHarness, slash_command

RO, SAM = "U0RO0001", "U0SAM001"
CHANNEL, SAM_DM = "C0GROUP01", "DU0SAM001"


def button(blocks: list[dict[str, Any]], action: str) -> dict[str, Any]:
    return next(b for b in buttons_of(blocks) if b["action_id"].startswith(action))


def text_of(blocks: list[dict[str, Any]]) -> str:
    return str(blocks)


async def invite_sam(slack: SlackHarness) -> tuple[str, list[dict[str, Any]]]:
    setup = (
        f"setup child=AB-1234 registered=2025-12-01 facilitator=<@{RO}|ro> "
        f"members=<@{SAM}|sam>:Social care"
    )
    assert (await slack.send(slash_command(setup, user=RO, channel=CHANNEL))).status == 200
    assert (await slack.send(slash_command("", user=RO, channel=CHANNEL))).status == 200
    invitation = SlackScreen(slack).latest_touched(SAM_DM)
    assert invitation is not None
    return invitation


def refuse_updates(fake: FakeSlack, how: str) -> None:
    if how == "ok:false":
        fake.error("chat.update", "cant_update_message")
    else:
        fake.fail("chat.update", 3, status=500)  # the first try and both retries


@pytest.mark.parametrize("how", ["ok:false", "repeated 500s"])
async def test_a_refused_update_posts_the_question_afresh_and_the_next_click_edits_that(
    slack: SlackHarness, how: str
) -> None:
    fake, screen = slack.fake, SlackScreen(slack)
    fake.allowed_mentions = {RO, SAM}
    old_ts, invitation = await invite_sam(slack)

    refuse_updates(fake, how)
    await press(slack, SAM, SAM_DM, old_ts, button(invitation, "dlg.start"))

    # Question 1 arrives as a new message; the invitation stays as it was.
    new = screen.latest_touched(SAM_DM)
    assert new is not None
    new_ts, question_1 = new
    assert new_ts != old_ts
    assert "Question 1 of" in text_of(question_1)
    assert screen.messages(SAM_DM)[old_ts] == invitation
    assert [c.body["channel"] for c in fake.delivered("chat.postMessage")][-1] == SAM_DM

    # The next click edits the new message in place: no further message appears.
    posts_before = len(fake.delivered("chat.postMessage"))
    await press(slack, SAM, SAM_DM, new_ts, button(question_1, "dlg.answer"))
    edited = fake.delivered("chat.update")[-1]
    assert (edited.body["channel"], edited.body["ts"]) == (SAM_DM, new_ts)
    assert "Question 2 of" in text_of(edited.body["blocks"])
    assert len(fake.delivered("chat.postMessage")) == posts_before
    assert fake.violations == []


async def test_a_rate_limited_update_is_not_answered_with_a_new_message(
    slack: SlackHarness,
) -> None:
    fake, screen = slack.fake, SlackScreen(slack)
    fake.allowed_mentions = {RO, SAM}
    old_ts, invitation = await invite_sam(slack)
    posts_before = len(fake.delivered("chat.postMessage"))

    fake.fail("chat.update", 3, status=429, retry_after=0)
    await press(slack, SAM, SAM_DM, old_ts, button(invitation, "dlg.start"))

    # Slack asked the bot to slow down: it does not add a post on top.
    assert len(fake.delivered("chat.postMessage")) == posts_before
    assert screen.latest_touched(SAM_DM) == (old_ts, invitation)
