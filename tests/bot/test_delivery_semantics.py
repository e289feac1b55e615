"""What "sent once" means when the platform does not answer (README, "Delivery").

A nudge whose request left but got no answer (a timeout) may have been shown: it is marked
``unconfirmed`` and never sent again. A send the platform answered with an error was not shown
and is retried as before. Teams' Bot Connector does the same for new messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.platforms.slack.transport import SingleToken, SlackTransport
from bot.platforms.teams.connector import BotConnector, RetryPolicy
from bot.platforms.teams.origin import ServiceHosts
from bot.runtime import Runtime
from bot.settings import Settings
from bot.sweeper import sweep
from bot.transport import DeliveryFailed
from handlers.base.core import Core
from tests.conftest import Clock
from tests.factories.ledger import status_counts
from tests.factories.rows import at
from tests.factories.scenarios import numbered_group
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlack

MESSAGE = {"type": "message", "summary": "hello"}


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


async def slack_runtime(core: Core, api_url: str) -> Runtime:
    # Its supervision nudge is due on 20 April, in channel C0.
    await numbered_group(core.db, platform="slack", external_id="T0001")
    runtime = Runtime(settings=Settings(_env_file=None), core=core)
    transport = SlackTransport(
        core.db, SingleToken("xoxb-test"), base_url=api_url, pace_seconds=0, timeout_seconds=0.3
    )
    runtime.add_transport(transport)
    return runtime


async def test_a_nudge_slack_took_but_never_answered_is_unconfirmed_and_not_sent_twice(
    core: Core, clock: Clock, fake_slack: FakeSlack
) -> None:
    runtime = await slack_runtime(core, fake_slack.api_url)
    fake_slack.slow("chat.postMessage", 1.0)  # accepted, answered after the bot gave up
    clock.at = at(2026, 4, 20)
    report = await sweep(runtime, pace_seconds=0)
    fake_slack.slow("chat.postMessage", 0)
    for hours in (1, 3, 24):  # every later sweep, long past any retry backoff
        clock.at = at(2026, 4, 20 + hours // 24, 10 + hours % 24)
        later = await sweep(runtime, pace_seconds=0)
        assert later.count("sent") == 0

    assert report.count("unconfirmed") == 1 and report.count("retry") == 0
    assert len(fake_slack.of("chat.postMessage")) == 1  # Slack shows it once, never twice
    assert await status_counts(core.db) == {"unconfirmed": 1}
    await runtime.transports["slack"].close()  # type: ignore[attr-defined]


async def test_a_nudge_slack_refused_is_retried_and_shown_once(
    core: Core, clock: Clock, fake_slack: FakeSlack
) -> None:
    runtime = await slack_runtime(core, fake_slack.api_url)
    fake_slack.error("chat.postMessage", "internal_error")  # an answer: it was not posted
    clock.at = at(2026, 4, 20)
    first = await sweep(runtime, pace_seconds=0)
    clock.at = at(2026, 4, 20, 11)
    second = await sweep(runtime, pace_seconds=0)

    assert (first.count("retry"), second.count("sent")) == (1, 1)
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert await status_counts(core.db) == {"sent": 1}
    await runtime.transports["slack"].close()  # type: ignore[attr-defined]


@pytest.fixture
async def connector_fake() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector()
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_teams_message_left_unanswered_is_not_posted_again(
    connector_fake: FakeBotConnector,
) -> None:
    async def no_wait(_seconds: float) -> None:
        return None

    connector = BotConnector(
        policy=RetryPolicy(attempts=3),
        sleep=no_wait,
        timeout=0.3,
        hosts=ServiceHosts.from_setting(connector_fake.host),
    )
    connector_fake.delay = 1.0
    with pytest.raises(DeliveryFailed) as failed:
        await connector.send(connector_fake.url, "a:personal-1", MESSAGE)
    # An edit in place is safe to repeat, so it is still retried.
    with pytest.raises(DeliveryFailed) as edit_failed:
        await connector.update(connector_fake.url, "a:personal-1", "act-1", MESSAGE)
    await connector.close()

    assert failed.value.maybe_sent and len(connector_fake.sends()) == 1
    assert not edit_failed.value.maybe_sent and len(connector_fake.updates()) == 3
