"""Everything a running process shares: settings, the handler core and one transport a platform.

Build it with :mod:`bot.bootstrap`; close it with :meth:`Runtime.close`.

Adapters handle an inbound event with :meth:`Runtime.dispatch`; the scheduler delivers through
:meth:`Runtime.deliver`. Both end in the same :class:`bot.transport.Deliverer`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date

from bot.settings import Settings
from bot.transport import Deliverer, ReplyContext, Transport
from handlers.base.core import Core
from handlers.base.events import Event
from handlers.base.messages import (
    Direct,
    DirectUpload,
    Home,
    Intent,
    Mention,
    Message,
    Paragraph,
    Post,
    Span,
    Upload,
)
from handlers.router import handle

log = logging.getLogger(__name__)
# Destinations served at once when one event fans out (a record to every member): each
# conversation still gets its messages in order and paced; different ones go in parallel.
# A group's channel and its members (21 for a large group) fit in one wave: with 6 at a time
# the last of 21 waited four paced waves (9 s in bench.fanout, docs/performance.md).
PARALLEL_DESTINATIONS = 24


@dataclass
class Runtime:
    settings: Settings
    core: Core
    transports: dict[str, Transport] = field(default_factory=dict)
    purged_on: date | None = None  # the scheduler applies retention once a day
    anchored_on: date | None = None  # ... and logs the audit anchor once a day

    def add_transport(self, transport: Transport) -> None:
        self.transports[transport.platform] = transport

    async def close(self) -> None:
        """Close the transports' connections, then the database (a command or server is done).

        Transports that hold connections (an HTTP session) have ``close``; closing twice is fine.
        """
        for transport in self.transports.values():
            close = getattr(transport, "close", None)
            if close is not None:
                await close()
        await self.core.db.dispose()

    def deliverer(self, platform: str) -> Deliverer:
        return Deliverer(self.core.db, self.transports[platform])

    async def dispatch(self, event: Event, ctx: ReplyContext) -> list[Intent]:
        """Handle one neutral event and carry out what the handlers asked for.

        When messages to other people fail for good (after the adapter's retries), the person
        who acted — the facilitator opening, reminding or closing — is told who was not reached.
        """
        intents = await handle(self.core, event)
        await self.carry_out(event, intents, ctx)
        return intents

    async def carry_out(self, event: Event, intents: list[Intent], ctx: ReplyContext) -> None:
        """Deliver what handling ``event`` asked for (the second half of :meth:`dispatch`).

        Intents for the same destination keep their order; different destinations of a
        fan-out (the record to every member) run in parallel, each paced by its transport."""
        platform, org = event.actor.platform, event.actor.org
        unreached: list[str] = []
        slots = asyncio.Semaphore(PARALLEL_DESTINATIONS)

        async def lane(queue: list[Intent]) -> None:
            async with slots:
                for intent in queue:
                    failed = await self.deliver(platform, org, [intent], ctx)
                    if failed and isinstance(intent, Direct | DirectUpload):
                        if intent.user_id != event.actor.user_id:
                            unreached.append(intent.user_id)
                    elif failed and isinstance(intent, Post):
                        unreached.append("")  # the channel itself

        for step in destinations(intents):
            if len(step) == 1:  # one destination: no tasks, so nothing changes for it
                await lane(step[0])
            else:
                await asyncio.gather(*(lane(queue) for queue in step))
        if unreached:
            note = Direct(event.actor.user_id, unreached_message(unreached))
            await self.deliver(platform, org, [note], ctx)

    async def deliver(
        self, platform: str, org: str, intents: list[Intent], ctx: ReplyContext | None = None
    ) -> list[str]:
        return await self.deliverer(platform).deliver(org, intents, ctx)


FanOut = Direct | DirectUpload | Home | Post | Upload


def destinations(intents: list[Intent]) -> list[list[list[Intent]]]:
    """``intents`` as steps carried out one after another. A run of messages and files to
    people and channels is one step, grouped by destination (kept in order within each); an
    edit, reply or form is a step of its own, so it stays where the handler put it."""
    steps: list[list[list[Intent]]] = []
    lanes: dict[str, list[Intent]] = {}
    for intent in intents:
        if not isinstance(intent, FanOut):
            lanes = {}
            steps.append([[intent]])
            continue
        if not lanes:
            steps.append([])
        if isinstance(intent, Direct | DirectUpload | Home):
            key = f"user:{intent.user_id}"
        else:
            key = f"channel:{intent.channel_id}"
        if key not in lanes:
            lanes[key] = []
            steps[-1].append(lanes[key])
        lanes[key].append(intent)
    return steps


def unreached_message(user_ids: list[str]) -> Message:
    """Tell the facilitator, by mention only, whom a message could not reach."""
    people = list(dict.fromkeys(u for u in user_ids if u))
    spans: list[Span] = []
    if people:
        spans.append("I couldn't reach ")
        for i, user_id in enumerate(people):
            spans += [", " if i else "", Mention(user_id)]
        spans.append(
            ". They have not had this message. Please check they can receive messages "
            "from this app, or tell them another way. "
        )
    if "" in user_ids:
        spans.append("I couldn't post in the channel. Please check the app is in it.")
    text = "Some messages could not be delivered."
    return Message(text=text, blocks=(Paragraph(tuple(spans)),))
