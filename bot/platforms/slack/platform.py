"""Slack as the registry sees it: on with a signing secret and a bot token or OAuth credentials.

Light on purpose (every command imports the registry): slack-bolt is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms import Platform
from bot.platforms.slack.configured import slack_configured

if TYPE_CHECKING:
    from aiohttp import web

    from bot.checkup import Check
    from bot.platforms.slack.app import SlackAdapter
    from bot.runtime import Runtime
    from bot.settings import Settings
    from bot.transport import Transport


class SlackPlatform(Platform):
    """``POST /slack/events`` (and the OAuth install routes), or Socket Mode with an app token."""

    name = "slack"
    loggers = ("slack_sdk", "slack_bolt")

    def configured(self, settings: Settings) -> bool:
        return slack_configured(settings)

    def add_transport(self, runtime: Runtime) -> Transport:
        from bot.platforms.slack.app import make_transport

        transport = make_transport(runtime)
        runtime.add_transport(transport)
        return transport

    def add_routes(self, app: web.Application, runtime: Runtime) -> None:
        if not slack_configured(runtime.settings):
            return  # no route at all: nothing could verify Slack's signature
        from bot.platforms.slack.app import SLACK_ADAPTER, SlackAdapter

        adapter = SlackAdapter(runtime)
        adapter.routes(app)
        app[SLACK_ADAPTER] = adapter

    def checks(self, settings: Settings) -> list[Check]:
        from bot.platforms.slack.checks import slack_pairing

        return [slack_pairing(settings)]

    async def start(self, app: web.Application) -> None:
        adapter = _adapter(app)
        if adapter is not None:
            adapter.connect_socket_mode()

    async def stop(self, app: web.Application) -> None:
        adapter = _adapter(app)
        if adapter is not None:
            await adapter.disconnect_socket_mode()


def _adapter(app: web.Application) -> SlackAdapter | None:
    from bot.platforms.slack.app import SLACK_ADAPTER

    return app.get(SLACK_ADAPTER)


SLACK = SlackPlatform()
