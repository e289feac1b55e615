"""A NUL or a bidi override in a command is not echoed back, in Slack or Teams (real HTTP)."""

from __future__ import annotations

from tests.bot.edge_harness import CHANNEL, RO, TEAMS_SAM, slack_server, teams_server
from tests.bot.platforms.teams.teams_harness import Harness
from tests.fakes.slack_api import SlackHarness, slash_command

__all__ = ["slack_server", "teams_server"]  # fixtures, used by name

WORD = "fro\x00b\u202enicate"


def assert_clean(said: str) -> None:
    assert "frobnicate" in said, said  # the unknown word is quoted back, cleaned
    assert "\x00" not in said and "\u202e" not in said


async def test_slack_does_not_echo_a_nul_or_an_override(slack_server: SlackHarness) -> None:
    fake = slack_server.fake
    fake.calls.clear()
    sent = await slack_server.send(slash_command(f"{WORD} now", user=RO, channel=CHANNEL))
    assert sent.status == 200
    assert_clean(" ".join(fake.texts()))


async def test_teams_does_not_echo_a_nul_or_an_override(teams_server: Harness) -> None:
    h = teams_server
    h.connector.clear()
    status, _ = await h.post(h.in_channel(TEAMS_SAM, f"reflect {WORD} now"))
    await h.adapter.drain()
    assert status == 200
    assert_clean(" ".join(t for c in h.connector.delivered() for t in c.texts()))
