"""The operator's command line run against the test database, as the command tests need it."""

from __future__ import annotations

import asyncio

from click.testing import Result
from typer.testing import CliRunner

from bot.cli import app
from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from handlers.base.core import Core
from tests.factories.console import full_session

runner = CliRunner()


async def cli(core: Core, *args: str, **env: str) -> Result:
    """Run the CLI in a thread (it runs its own event loop) against the test database."""
    get_settings.cache_clear()
    return await asyncio.to_thread(
        runner.invoke, app, list(args), env={"DATABASE_URL": core.db.url, **env}
    )


async def session_through_console(core: Core) -> ConsoleBackend:
    """A whole session (``factories.console.full_session``) for the CLI to work on."""
    bot = ConsoleBackend(Runtime(settings=Settings(), core=core))
    await full_session(bot)
    return bot
