"""A whole platform in memory (the console backend) for whole-dialogue tests."""

from __future__ import annotations

import pytest

from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from tests.factories.console import NAMES, SETUP


@pytest.fixture
def bot(core: Core) -> ConsoleBackend:
    backend = ConsoleBackend(Runtime(settings=Settings(), core=core))
    backend.names.update(NAMES)
    return backend


@pytest.fixture
async def group(bot: ConsoleBackend) -> ConsoleBackend:
    """A registered core group: facilitator @ro, three members, chair @chair."""
    await bot.command("ro", SETUP)
    return bot
