"""A person's side of Slack in the tests: what each conversation shows now (rebuilt from the
fake Slack's posts and updates), pressing its buttons and filling its forms over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.slack_api import SlackHarness, block_actions, view_submission


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        el
        for block in blocks
        if block.get("type") == "actions"
        for el in block["elements"]
        if el.get("type") == "button"
    ]


class SlackScreen:
    """What each conversation shows now, rebuilt from the fake's posts and in-place updates."""

    def __init__(self, slack: SlackHarness) -> None:
        self.slack = slack

    def messages(self, channel: str) -> dict[str, list[dict[str, Any]]]:
        shown: dict[str, list[dict[str, Any]]] = {}
        for call in self.slack.fake.calls:
            if not call.ok:
                continue
            if call.method == "chat.postMessage" and call.response.get("channel") == channel:
                shown[call.response["ts"]] = call.body.get("blocks", [])
            elif call.method == "chat.update" and call.body.get("channel") == channel:
                shown[call.body["ts"]] = call.body.get("blocks", [])
        return shown

    def latest_touched(self, channel: str) -> tuple[str, list[dict[str, Any]]] | None:
        last: tuple[str, list[dict[str, Any]]] | None = None
        for call in self.slack.fake.calls:
            if not call.ok:
                continue
            if call.method == "chat.postMessage" and call.response.get("channel") == channel:
                last = (call.response["ts"], call.body.get("blocks", []))
            elif call.method == "chat.update" and call.body.get("channel") == channel:
                last = (call.body["ts"], call.body.get("blocks", []))
        return last


async def press(
    slack: SlackHarness, user: str, channel: str, ts: str, button: dict[str, Any]
) -> None:
    sent = await slack.send(
        block_actions(
            button["action_id"], button.get("value", ""), user=user, channel=channel, message_ts=ts
        )
    )
    assert sent.status == 200


async def submit_latest_form(slack: SlackHarness, user: str, answers: dict[str, Any]) -> None:
    view = slack.fake.views[-1]
    sent = await slack.send(view_submission(view, answers, user=user))
    assert sent.status == 200


async def answer_everything(slack: SlackHarness, user: str, choice: str, words: str) -> None:
    """Click through one member's DM: start, answer each question (one comment), review, submit."""
    screen = SlackScreen(slack)
    dm = "D" + user
    commented = False
    for _ in range(120):
        latest = screen.latest_touched(dm)
        assert latest is not None, "the member never got a DM"
        ts, blocks = latest
        by_action: dict[str, list[dict[str, Any]]] = {}
        for b in buttons_of(blocks):
            by_action.setdefault(b["action_id"].split("~")[0], []).append(b)
        if "dlg.start" in by_action:
            await press(slack, user, dm, ts, by_action["dlg.start"][0])
        elif "dlg.answer" in by_action:
            if not commented and "dlg.comment" in by_action:
                await press(slack, user, dm, ts, by_action["dlg.comment"][0])
                await submit_latest_form(slack, user, {"text": words})
                commented = True
                continue
            wanted = [b for b in by_action["dlg.answer"] if b["value"].endswith(":" + choice)]
            await press(slack, user, dm, ts, (wanted or by_action["dlg.answer"])[0])
        elif "dlg.text" in by_action and by_action["dlg.text"][0]["text"]["text"].startswith(
            "Write"
        ):
            await press(slack, user, dm, ts, by_action["dlg.text"][0])
            await submit_latest_form(slack, user, {"text": words})
        elif "dlg.next" in by_action:
            await press(slack, user, dm, ts, by_action["dlg.next"][0])
        elif "dlg.submit" in by_action:
            await press(slack, user, dm, ts, by_action["dlg.submit"][0])
        else:
            return  # the thank-you message: nothing left to do
    pytest.fail("the dialogue never finished")
