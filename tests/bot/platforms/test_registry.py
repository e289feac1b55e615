"""The platform registry drives the server's routes, ``serve``'s safety check, ``remind``'s
transports and the logs: a new platform is a folder plus one line in ``PLATFORMS``."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.checks import configuration_checks, refusal, unsafe_for_production
from bot.checkup import Check, problem
from bot.commands.remind import run_once
from bot.logging import configure_logging
from bot.platforms import Platform, registry
from bot.platforms.console.backend import ConsoleTransport
from bot.runtime import Runtime
from bot.server import build_web_app
from bot.settings import Settings
from bot.transport import ReplyContext, Transport
from handlers.base.core import Core
from handlers.base.events import Actor, Command
from storage.db import Database
from tests.factories.rows import at
from tests.factories.scenarios import numbered_group
from tests.fakes.slack_api import signed


class Relay(Platform):
    """A platform as a deployment would add one, small enough to read here: commands arrive as
    JSON at ``POST /relay/commands``; what the bot says is kept by an in-memory transport."""

    name = "relay"
    loggers = ("relay_sdk",)

    def __init__(self) -> None:
        self.enabled = True  # stands in for its settings
        self.transport = ConsoleTransport(platform=self.name)

    def configured(self, settings: Settings) -> bool:
        return self.enabled

    def add_transport(self, runtime: Runtime) -> Transport:
        runtime.add_transport(self.transport)
        return self.transport

    def add_routes(self, app: web.Application, runtime: Runtime) -> None:
        if not self.enabled:
            return
        if self.name not in runtime.transports:
            self.add_transport(runtime)

        async def commands(request: web.Request) -> web.Response:
            body = await request.json()
            actor = Actor(self.name, body["org"], body["user"], body["user"])
            ctx = ReplyContext(body["org"], body["user"], body["channel"])
            await runtime.dispatch(Command(actor, body["text"], body["channel"]), ctx)
            return web.json_response({"ok": True})

        app.router.add_post("/relay/commands", commands)

    def checks(self, settings: Settings) -> list[Check]:
        return [problem("RELAY", "is for trying things out only", "remove the relay")]


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Relay:
    """The one line that adds a platform: its object in ``PLATFORMS``."""
    platform = Relay()
    monkeypatch.setattr(registry, "PLATFORMS", [*registry.PLATFORMS, platform])
    return platform


def settings(**values: Any) -> Settings:
    off = {"slack_bot_token": None, "slack_signing_secret": None, "microsoft_app_id": None}
    return Settings(_env_file=None, **{**off, **values})  # type: ignore[arg-type]


@asynccontextmanager
async def serving(core: Core, config: Settings) -> AsyncIterator[str]:
    """The real server (``build_web_app``) on a free port; yields its base URL."""
    runner = web.AppRunner(build_web_app(Runtime(settings=config, core=core)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.text()


SLACK_ONLY = {"slack_bot_token": "xoxb-test", "slack_signing_secret": "s3cret"}
TEAMS_ONLY = {"teams_allow_unauthenticated": True}
HANDSHAKE = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "t"})


@pytest.mark.parametrize(
    ("configured", "slack_status", "teams_status"),
    [
        (SLACK_ONLY, 200, 401),  # Teams' route says it is not configured
        (TEAMS_ONLY, 404, 400),  # a malformed activity: Teams' route is really there
    ],
)
async def test_each_platform_mounts_its_routes_only_when_configured(
    core: Core, configured: dict[str, Any], slack_status: int, teams_status: int
) -> None:
    async with serving(core, settings(**configured)) as base:
        slack, said = await post(base + "/slack/events", HANDSHAKE, signed("s3cret", HANDSHAKE))
        teams, _ = await post(base + "/api/messages", "{}", {"Content-Type": "application/json"})
    assert (slack, teams) == (slack_status, teams_status)
    assert ("c-1" in said) == (slack == 200)


async def test_a_platform_added_to_the_registry_is_served(core: Core, relay: Relay) -> None:
    body = json.dumps({"org": "R1", "user": "U1", "channel": "C1", "text": "reflect help"})
    headers = {"Content-Type": "application/json"}
    async with serving(core, settings()) as base:
        status, _ = await post(base + "/relay/commands", body, headers)
    assert status == 200
    [help_text] = relay.transport.replies["U1"]
    assert "/reflect" in help_text.text

    relay.enabled = False  # not configured: not mounted
    async with serving(core, settings()) as base:
        assert (await post(base + "/relay/commands", body, headers))[0] == 404


async def test_remind_sends_through_every_configured_platform(tmp_path: Path, relay: Relay):
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    db = Database(url)
    await db.create_all()
    group = await numbered_group(db, channel_id="C-relay", platform="relay", external_id="R1")
    await db.dispose()

    relay.enabled = False
    waiting = await run_once(settings(database_url=url), at(2026, 4, 20), dry_run=False)
    assert [o.result for o in waiting.outcomes] == ["no transport"]
    relay.enabled = True
    sent = await run_once(settings(database_url=url), at(2026, 4, 20, 11), dry_run=False)
    assert [o.result for o in sent.outcomes] == ["sent"]
    [nudge] = relay.transport.messages.values()
    assert nudge.where == f"#{group.channel_id}" and "AB-1000" in nudge.text


def test_serve_asks_every_platform_whether_the_configuration_is_safe(relay: Relay) -> None:
    production = settings(coregroup_env="production")
    [relay_check] = relay.checks(production)
    assert relay_check in configuration_checks(production)  # doctor lists it; serve refuses on it
    assert "RELAY is for trying things out only" in refusal(relay_check)
    assert unsafe_for_production(settings()) is None  # not production: anything goes


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_platforms_libraries_log_warnings_only(relay: Relay, restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(logging.INFO, stream)
    logging.getLogger("relay_sdk.http").info("sending body %s", "what someone typed")
    logging.getLogger("relay_sdk.http").warning("gave up after retries")
    assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == [
        "gave up after retries"
    ]
