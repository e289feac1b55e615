"""The chat platforms the bot speaks on, and the one object each provides to the rest of the bot.

How to add a platform (say ``matrix``):

1. Make a folder ``bot/platforms/matrix/`` holding everything about it: the inbound side (its
   payloads -> neutral events from :mod:`handlers.base.events`, handled with
   :meth:`bot.runtime.Runtime.dispatch`), a transport implementing :class:`bot.transport.Transport`
   (neutral ``Message`` -> its markup, its limits, retries and pacing), any storage of its own,
   and a ``platform.py`` defining one :class:`Platform` subclass instance, ``MATRIX``.
2. Put its settings in :class:`bot.settings.Settings` (one settings object for the process),
   documented in README.md and app.json like every setting.
3. Add ``MATRIX`` to ``PLATFORMS`` in :mod:`bot.platforms.registry`.

That is all: ``coregroup serve`` mounts its routes and starts it, ``serve`` and ``coregroup remind``
build its transport when it is configured, the scheduler sends its nudges through that transport,
``serve`` and ``coregroup doctor`` run its settings checks, its chatty libraries are kept
to warnings in the logs, and any CLI commands it has are registered. Nothing outside its folder
names it.

``platform.py`` should stay light (settings checks only) and import the platform's SDK inside its
methods: every ``coregroup`` command imports the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from aiohttp import web

    from bot.checkup import Check
    from bot.runtime import Runtime
    from bot.settings import Settings
    from bot.transport import Transport


class Platform:
    """One chat platform, as the server, the commands and the scheduler see it."""

    name: str = ""  # as stored: Organisation.platform, Actor.platform, Transport.platform
    loggers: tuple[str, ...] = ()  # its libraries that log request bodies: warnings only

    def configured(self, settings: Settings) -> bool:
        """Whether this process has the credentials to talk to the platform."""
        raise NotImplementedError

    def add_transport(self, runtime: Runtime) -> Transport:
        """Build the transport, add it to ``runtime`` and return it. Only called when configured;
        ``Runtime.close`` closes it."""
        raise NotImplementedError

    def add_routes(self, app: web.Application, runtime: Runtime) -> None:
        """Mount the platform's HTTP routes (adding its transport to ``runtime`` if missing).

        Called for every platform, configured or not: an unconfigured one mounts nothing, or a
        route that refuses clearly. Work to finish at shutdown goes on ``app.on_shutdown`` or
        ``app.on_cleanup``.
        """

    async def start(self, app: web.Application) -> None:
        """Once the server listens: open long-lived connections (e.g. a websocket)."""

    async def stop(self, app: web.Application) -> None:
        """Before the server stops: close what :meth:`start` opened."""

    def checks(self, settings: Settings) -> list[Check]:
        """Its settings checked: ``serve`` refuses production on a failed one; doctor lists all."""
        return []

    def add_commands(self, cli: typer.Typer) -> None:
        """Add the platform's own ``coregroup`` sub-commands, if it has any."""
