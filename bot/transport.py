"""The port every platform adapter implements, and the one place intents are carried out.

Handlers return intents; :class:`Deliverer` executes them through a platform's
:class:`Transport`, remembering where messages landed (``remember_as``) in the database so a
later ``Update`` — from any instance, after any restart — edits the same message (or, when the
platform would not edit it, the fresh copy the transport posted instead).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.lanes import lanes
from handlers.base.messages import (
    Direct,
    Forget,
    Form,
    Home,
    Intent,
    Message,
    OpenForm,
    Post,
    Reply,
    Update,
    Upload,
)
from storage.db import Database
from storage.models import MessageRef
from storage.types import utcnow

log = logging.getLogger(__name__)

# Conversations sent to at once by one handled event (the record to a channel and 20 members
# is 21); more wait for a free slot.
PARALLEL_LANES = 32

PlatformRef = dict[str, Any]


@dataclass(frozen=True)
class ReplyContext:
    """Where the event being handled came from, for replies and forms.

    ``data`` is the adapter's own (Slack: trigger_id, response_url, channel; Teams: the
    conversation reference). Handlers never read it.
    """

    org: str
    user_id: str
    channel_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Transport(Protocol):
    """What an adapter can do on its platform. Every method owns that platform's limits,
    escaping, pacing and retries; a permanent failure raises ``DeliveryFailed``."""

    platform: str

    async def post(
        self, org: str, channel_id: str, message: Message, thread: PlatformRef | None
    ) -> PlatformRef: ...

    async def direct(self, org: str, user_id: str, message: Message) -> PlatformRef: ...

    async def update(self, org: str, ref: PlatformRef, message: Message) -> PlatformRef | None:
        """Edit the message at ``ref``. When it cannot be edited (after retries), post ``message``
        afresh in the same conversation and return where it landed, so nobody is left looking
        at a stale message; None when edited in place."""
        ...

    async def reply(self, ctx: ReplyContext, message: Message) -> None: ...

    async def open_form(self, ctx: ReplyContext, form: Form) -> None: ...

    async def publish_home(self, org: str, user_id: str, message: Message) -> None: ...

    async def upload(
        self,
        org: str,
        channel_id: str,
        filename: str,
        content: bytes,
        title: str,
        thread: PlatformRef | None,
    ) -> None: ...


class DeliveryFailed(Exception):
    """The platform refused a message after retries. ``reason`` is safe to log (no content)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Deliverer:
    """Carries out intents in order for one platform."""

    def __init__(self, db: Database, transport: Transport) -> None:
        self.db = db
        self.transport = transport

    async def deliver(
        self, org: str, intents: list[Intent], ctx: ReplyContext | None = None
    ) -> list[str]:
        """Execute every intent; a failure of one is logged and the rest still go out.

        Returns the reasons of the intents that failed (empty when all went out).
        """
        failures: list[str] = []
        for intent in intents:
            failed = await self._attempt(org, intent, ctx)
            if failed is not None:
                failures.append(failed)
        return failures

    async def deliver_each(
        self, org: str, intents: list[Intent], ctx: ReplyContext | None = None
    ) -> list[str | None]:
        """Execute every intent, different conversations side by side (:mod:`bot.lanes`);
        returns each intent's failure reason, None where it went out.

        Each conversation still gets its messages in order, at its platform's pace, so the
        last member of a large group no longer waits for everyone before them. Replies to the
        person who acted that come last (e.g. "the record has gone to each member") still go
        out after everything else.
        """
        results: list[str | None] = [None] * len(intents)
        tail = len(intents)
        while tail > 0 and isinstance(intents[tail - 1], Reply | OpenForm):
            tail -= 1
        slots = asyncio.Semaphore(PARALLEL_LANES)
        stopped: list[BaseException] = []

        async def run(lane: list[int]) -> None:
            async with slots:
                try:
                    for i in lane:
                        results[i] = await self._attempt(org, intents[i], ctx)
                except (KeyboardInterrupt, SystemExit) as exc:
                    stopped.append(exc)  # raised below, in the caller, not inside the loop

        await asyncio.gather(*(run(lane) for lane in lanes(intents[:tail])))
        if stopped:
            raise stopped[0]
        for i in range(tail, len(intents)):
            results[i] = await self._attempt(org, intents[i], ctx)
        return results

    async def _attempt(self, org: str, intent: Intent, ctx: ReplyContext | None) -> str | None:
        try:
            await self._one(org, intent, ctx)
        except DeliveryFailed as exc:
            log.warning(
                "delivery failed", extra={"intent": type(intent).__name__, "reason": exc.reason}
            )
            return exc.reason
        return None

    async def _one(self, org: str, intent: Intent, ctx: ReplyContext | None) -> None:
        t = self.transport
        if isinstance(intent, Post):
            thread = await self.recall(intent.thread_key) if intent.thread_key else None
            ref = await t.post(org, intent.channel_id, intent.message, thread)
            if intent.remember_as:
                await self.remember(intent.remember_as, ref)
        elif isinstance(intent, Direct):
            ref = await t.direct(org, intent.user_id, intent.message)
            if intent.remember_as:
                await self.remember(intent.remember_as, ref)
        elif isinstance(intent, Update):
            known = await self.recall(intent.key)
            if known is not None:
                moved = await t.update(org, known, intent.message)
                if moved is not None:  # posted afresh: the next update edits the new one
                    await self.remember(intent.key, moved)
            elif intent.fallback is not None:
                await self._one(org, intent.fallback, ctx)
        elif isinstance(intent, Reply):
            if ctx is None:
                raise DeliveryFailed("reply without a context")
            await t.reply(ctx, intent.message)
        elif isinstance(intent, OpenForm):
            if ctx is None:
                raise DeliveryFailed("form without a context")
            await t.open_form(ctx, intent.form)
        elif isinstance(intent, Upload):
            thread = await self.recall(intent.thread_key) if intent.thread_key else None
            await t.upload(
                org, intent.channel_id, intent.filename, intent.content, intent.title, thread
            )
        elif isinstance(intent, Forget):
            await self.forget(intent.key)
        elif isinstance(intent, Home):
            await t.publish_home(org, intent.user_id, intent.message)

    async def remember(self, key: str, ref: PlatformRef) -> None:
        async with self.db.write() as s:
            row = await self._row(s, key)
            if row is None:
                s.add(MessageRef(platform=self.transport.platform, key=key, ref=ref))
            else:
                row.ref = ref
                row.updated_at = utcnow()
                s.add(row)

    async def recall(self, key: str) -> PlatformRef | None:
        async with self.db.read() as s:
            row = await self._row(s, key)
            return dict(row.ref) if row else None

    async def forget(self, key: str) -> None:
        async with self.db.write() as s:
            row = await self._row(s, key)
            if row is not None:
                await s.delete(row)

    async def _row(self, s: AsyncSession, key: str) -> MessageRef | None:
        platform = self.transport.platform
        query = select(MessageRef).where(MessageRef.platform == platform, MessageRef.key == key)
        return (await s.exec(query)).first()
