"""App Home with 60 groups, over real HTTP: every group and its Start button is reachable
through "Show more", each page says which groups it shows, and no view passes Slack's limits."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.models import CoreGroup
from tests.fakes.slack_api import SlackHarness, block_actions, event_callback, slash_command

RO = "U0RO0001"
GROUPS = 60


def _buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        el for block in view["blocks"] if block["type"] == "actions" for el in block["elements"]
    ]


def _texts(view: dict[str, Any]) -> str:
    out = []
    for block in view["blocks"]:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


async def test_sixty_groups_are_all_reachable_with_their_start_buttons(
    slack: SlackHarness,
) -> None:
    fake = slack.fake
    fake.allowed_mentions = {RO}
    for n in range(GROUPS):
        setup = f"setup child=AB-{n:04d} registered=2025-12-01 facilitator=<@{RO}|ro>"
        sent = await slack.send(slash_command(setup, user=RO, channel=f"C0G{n:05d}"))
        assert sent.status == 200
    async with slack.core.db.read() as s:
        ids = {str(g.id) for g in (await s.exec(select(CoreGroup))).all()}
    assert len(ids) == GROUPS

    opened = {"type": "app_home_opened", "user": RO, "channel": "D0RO0001", "tab": "home"}
    assert (await slack.send(event_callback(opened))).status == 200
    started: set[str] = set()
    for _page in range(10):
        view = fake.delivered("views.publish")[-1].body["view"]
        assert len(view["blocks"]) <= 100
        text = _texts(view)
        starts = [b for b in _buttons(view) if b["action_id"].startswith("reflect.start")]
        started |= {b["value"] for b in starts}
        for b in starts:  # every Start button sits under its group's heading
            assert b.get("accessibility_label", "").endswith(
                tuple(f"AB-{i:04d}" for i in range(GROUPS))
            )
        more = [b for b in _buttons(view) if b["text"]["text"] == "Show more groups"]
        if not more:
            break
        assert "Showing groups" in text and f"of {GROUPS}" in text
        published = fake.delivered("views.publish")[-1].response["view"]
        press = block_actions(
            more[0]["action_id"],
            more[0]["value"],
            user=RO,
            channel=None,
            message_ts=None,
            view=published,
        )
        assert (await slack.send(press)).status == 200
    assert started == ids, "every group's Start button was reachable"
    assert fake.violations == []
