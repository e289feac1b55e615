"""Fixtures for the Slack adapter: the fake Slack Web API and the bot's server wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from handlers.base.core import Core
from tests.fakes.slack_api import FakeSlack, SlackHarness


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()  # which asserts every Block Kit payload passed slack_sdk's models


@pytest.fixture
async def slack(core: Core, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness(core, fake_slack).start()
    yield harness
    await harness.stop()
