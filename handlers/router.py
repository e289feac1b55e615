"""Entry point for every neutral event: routes it to the use case that handles it."""

from __future__ import annotations

from handlers.core import Core
from handlers.events import Event
from handlers.messages import Intent


async def handle(core: Core, event: Event) -> list[Intent]:
    """Handle one event. Refusals come back as a ``Reply`` with a kind message; nothing changes."""
    raise NotImplementedError  # being written
