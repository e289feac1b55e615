"""The one HTTP server: /healthz, which routes are mounted, and the Slack OAuth install."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.platforms.slack.installations import DbInstallationStore
from handlers.base.core import Core
from prompts.loader import Catalogue
from storage.db import Database
from tests.fakes.slack_api import FakeSlack, SlackHarness, slash_command


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


async def test_healthz_is_ok_when_the_database_answers(core: Core, fake_slack: FakeSlack) -> None:
    harness = await SlackHarness(core, fake_slack).start()
    try:
        status, text, _ = await harness.get("/healthz")
    finally:
        await harness.stop()
    assert status == 200
    assert text == '{"ok": true, "database": "ok"}'


async def test_healthz_is_503_when_the_database_is_down(
    catalogue: Catalogue, fake_slack: FakeSlack
) -> None:
    down = Database("postgresql://postgres@127.0.0.1:9/nowhere")
    harness = await SlackHarness(Core(db=down, sets=catalogue), fake_slack).start()
    try:
        status, text, _ = await harness.get("/healthz")
    finally:
        await harness.stop()
        await down.dispose()
    assert status == 503
    assert '"database": "unreachable"' in text


async def test_without_slack_settings_there_is_no_slack_route(
    core: Core, fake_slack: FakeSlack
) -> None:
    harness = await SlackHarness(
        core, fake_slack, slack_bot_token=None, slack_signing_secret=None
    ).start()
    try:
        sent = await harness.send(slash_command("help", user="U0RO", channel="C0G"))
        health, _, _ = await harness.get("/healthz")
    finally:
        await harness.stop()
    assert harness.adapter is None
    assert sent.status in (404, 405)
    assert health == 200


async def test_single_workspace_mode_has_no_install_route(
    core: Core, fake_slack: FakeSlack
) -> None:
    harness = await SlackHarness(core, fake_slack).start()
    try:
        status, _, _ = await harness.get("/slack/install")
    finally:
        await harness.stop()
    assert status == 404


async def test_oauth_install_stores_the_workspace_and_its_token_is_used(
    core: Core, fake_slack: FakeSlack
) -> None:
    harness = await SlackHarness(
        core,
        fake_slack,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="client-secret",
    ).start()
    try:
        status, page, headers = await harness.get("/slack/install")
        assert status == 200
        link = re.search(r'href="([^"]+oauth/v2/authorize[^"]+)"', page)
        assert link is not None
        assert "client_id=111.222" in link.group(1)
        assert "chat%3Awrite" in link.group(1) or "chat:write" in link.group(1)
        state = re.search(r"state=([^&\"]+)", link.group(1)).group(1)  # type: ignore[union-attr]
        cookie = headers["Set-Cookie"].split(";")[0]

        status, _, _ = await harness.get(
            f"/slack/oauth_redirect?code=abc&state={state}", headers={"Cookie": cookie}
        )
        assert status == 200
        assert len(fake_slack.of("oauth.v2.access")) == 1
        assert await DbInstallationStore(core.db).bot_token("T0002") == "xoxb-installed"

        # The same redirect replayed (state consumed) installs nothing new.
        replay, _, _ = await harness.get(
            f"/slack/oauth_redirect?code=abc&state={state}", headers={"Cookie": cookie}
        )
        assert replay != 200 or len(fake_slack.of("oauth.v2.access")) == 1

        # A command from the newly installed workspace is answered with that workspace's token.
        await harness.send(slash_command("help", user="U0RO", channel="C0G", team="T0002"))
        [reply] = fake_slack.delivered("chat.postEphemeral")
        assert reply.headers["Authorization"] == "Bearer xoxb-installed"
    finally:
        await harness.stop()
