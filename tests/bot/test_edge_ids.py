"""Button values and form state with integers beyond 64 bits, over real HTTP, on both databases.

Such a value was never issued by the bot, so it is an expired button (or form): the person is
told so kindly, and no query ever sees the number (PostgreSQL and SQLite both fail on it).
"""

from __future__ import annotations

from handlers.base.core import Core
from tests.bot.edge_harness import (
    FORM,
    HUGE,
    SAM,
    TEAMS_SAM,
    interaction,
    post,
    slack_headers,
    slack_server,
    snapshot,
    teams_server,
)
from tests.bot.platforms.teams.teams_harness import Harness
from tests.fakes.slack_api import SlackHarness, block_actions

__all__ = ["slack_server", "teams_server"]  # fixtures, used by name

HUGE_VALUES = (
    ("dlg.answer", f"{HUGE}:q1:yes"),
    ("dlg.comment", f"{HUGE}:q1"),
    ("dlg.start", HUGE),
    ("session.close", HUGE),
    ("session.remind", "9223372036854775808"),  # one more than the largest 64-bit id
    ("reflect.start", "１２"),  # digits, but not ones we ever put in a button
    ("home.continue", "-1"),
)


async def test_slack_buttons_with_huge_integers_say_expired_and_change_nothing(
    slack_server: SlackHarness,
) -> None:
    fake = slack_server.fake
    before = await snapshot(slack_server.core.db)
    for action, value in HUGE_VALUES:
        fake.calls.clear()
        click = block_actions(action, value, user=SAM, channel="D" + SAM, message_ts="1.000001")
        answer = await post(
            slack_server.url("/slack/events"),
            interaction(click),
            slack_headers(interaction(click), FORM),
        )
        await slack_server.adapter.drain()
        assert answer.status == 200, action
        said = " ".join(fake.texts())
        assert "That button has expired" in said, f"{action} {value}: {said[:200]}"
    assert await snapshot(slack_server.core.db) == before


async def test_a_text_form_with_a_huge_id_in_its_state_says_expired_on_the_form(
    slack_server: SlackHarness,
) -> None:
    view = {
        "id": "VHUGE1",
        "hash": "h1",
        "type": "modal",
        "callback_id": "dlg.text",
        "private_metadata": f"{HUGE}:q1",
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
        "state": {"values": {"text": {"text": {"type": "plain_text_input", "value": "hello"}}}},
    }
    submit = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": SAM, "name": "sam", "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "1.2.trigger",
        "view": view,
    }
    before = await snapshot(slack_server.core.db)
    body = interaction(submit)
    answer = await post(slack_server.url("/slack/events"), body, slack_headers(body, FORM))
    await slack_server.adapter.drain()
    assert answer.status == 200
    assert "That form has expired" in answer.text
    assert await snapshot(slack_server.core.db) == before


async def test_teams_buttons_with_huge_integers_say_expired_and_change_nothing(
    teams_server: Harness, core: Core
) -> None:
    h = teams_server
    before = await snapshot(core.db)
    for action, value in HUGE_VALUES:
        h.connector.clear()
        press = h.submit(TEAMS_SAM, {"verb": action, "value": value}, TEAMS_SAM.personal)
        press["id"] = f"huge-{action}"
        status, _ = await h.post(press)
        await h.adapter.drain()
        assert status == 200, action
        said = " ".join(t for c in h.connector.delivered() for t in c.texts())
        assert "That button has expired" in said, f"{action} {value}: {said[:200]}"
    assert await snapshot(core.db) == before
