"""The platforms this bot serves: one line each in ``PLATFORMS``.

To add a platform, make its folder ``bot/platforms/<name>/`` with a ``platform.py`` defining one
:class:`bot.platforms.Platform` (the steps are in ``bot/platforms/__init__.py``), then add that
object to ``PLATFORMS`` below. The server, ``serve``, ``remind``, the scheduler, the logs and the
CLI all loop over this list through the functions here; none of them names a platform.

The console (``bot/platforms/console/``) is not in the list: it is not configured or served but
driven in-process by ``coregroup console`` and ``coregroup demo`` (and by the dialogue tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms import Platform
from bot.platforms.slack.platform import SLACK
from bot.platforms.teams.platform import TEAMS

if TYPE_CHECKING:
    import typer
    from aiohttp import web

    from bot.checkup import Check
    from bot.runtime import Runtime
    from bot.settings import Settings

PLATFORMS: list[Platform] = [
    SLACK,
    TEAMS,
]


def configured(settings: Settings) -> list[Platform]:
    """The platforms this process has credentials for."""
    return [p for p in PLATFORMS if p.configured(settings)]


def add_transports(runtime: Runtime) -> None:
    """Give ``runtime`` the transport of every configured platform (the scheduler uses them)."""
    for platform in configured(runtime.settings):
        if platform.name not in runtime.transports:
            platform.add_transport(runtime)


def add_routes(app: web.Application, runtime: Runtime) -> None:
    """Mount every platform's routes; each decides what to mount when it is not configured."""
    for platform in PLATFORMS:
        platform.add_routes(app, runtime)


async def start(app: web.Application) -> None:
    """The server is listening: let each platform open its long-lived connections."""
    for platform in PLATFORMS:
        await platform.start(app)


async def stop(app: web.Application) -> None:
    """The server is stopping: close what :func:`start` opened, last started first."""
    for platform in reversed(PLATFORMS):
        await platform.stop(app)


def checks(settings: Settings) -> list[Check]:
    """Every platform's settings checks, in registry order."""
    return [check for platform in PLATFORMS for check in platform.checks(settings)]


def add_commands(cli: typer.Typer) -> None:
    """Register the platforms' own ``coregroup`` sub-commands."""
    for platform in PLATFORMS:
        platform.add_commands(cli)


def chatty_loggers() -> tuple[str, ...]:
    """The platforms' libraries that log request bodies at DEBUG/INFO."""
    return tuple(name for platform in PLATFORMS for name in platform.loggers)
