"""Teams as the registry sees it: on with a Microsoft App ID (or, in development only, without).

Light on purpose (every command imports the registry): the Agents SDK is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms import Platform

if TYPE_CHECKING:
    import typer
    from aiohttp import web

    from bot.checkup import Check
    from bot.runtime import Runtime
    from bot.settings import Settings
    from bot.transport import Transport


def teams_configured(settings: Settings) -> bool:
    """Credentials to call the Bot Connector (or local development without them, said loudly)."""
    return bool(settings.microsoft_app_id) or settings.teams_allow_unauthenticated


class TeamsPlatform(Platform):
    """``POST /api/messages``, JWT-checked; proactive messages through the Bot Connector."""

    name = "teams"
    loggers = ("microsoft_agents",)

    def configured(self, settings: Settings) -> bool:
        return teams_configured(settings)

    def add_transport(self, runtime: Runtime) -> Transport:
        from bot.platforms.teams.app import add_teams_transport, auth_configuration

        return add_teams_transport(runtime, auth_configuration(runtime.settings))

    def add_routes(self, app: web.Application, runtime: Runtime) -> None:
        if not teams_configured(runtime.settings):  # the route answers 401 "not configured"
            from bot.platforms.teams.unconfigured import mount_refusal

            mount_refusal(app)  # without importing the Agents SDK: a faster start
            return
        from bot.platforms.teams.app import mount_teams

        mount_teams(app, runtime)

    def checks(self, settings: Settings) -> list[Check]:
        from bot.platforms.teams.checks import teams_authentication, teams_credentials

        return [teams_credentials(settings), teams_authentication(settings)]

    def add_commands(self, cli: typer.Typer) -> None:
        from bot.platforms.teams.command import teams_package

        cli.command("teams-package")(teams_package)


TEAMS = TeamsPlatform()
