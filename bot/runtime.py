"""Everything a running process shares: settings, the handler core and one transport a platform.

Adapters handle an inbound event with :meth:`Runtime.dispatch`; the scheduler delivers through
:meth:`Runtime.deliver`. Both end in the same :class:`bot.transport.Deliverer`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.settings import Settings
from bot.transport import Deliverer, ReplyContext, Transport
from handlers.core import Core
from handlers.events import Event
from handlers.messages import Intent
from handlers.router import handle

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    core: Core
    transports: dict[str, Transport] = field(default_factory=dict)

    def add_transport(self, transport: Transport) -> None:
        self.transports[transport.platform] = transport

    def deliverer(self, platform: str) -> Deliverer:
        return Deliverer(self.core.db, self.transports[platform])

    async def dispatch(self, event: Event, ctx: ReplyContext) -> list[Intent]:
        """Handle one neutral event and carry out what the handlers asked for."""
        intents = await handle(self.core, event)
        await self.deliver(event.actor.platform, event.actor.org, intents, ctx)
        return intents

    async def deliver(
        self, platform: str, org: str, intents: list[Intent], ctx: ReplyContext | None = None
    ) -> list[str]:
        return await self.deliverer(platform).deliver(org, intents, ctx)
