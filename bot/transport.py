"""The port every platform adapter implements, and the one place intents are carried out.

Handlers return intents; :class:`Deliverer` executes them through a platform's
:class:`Transport`, remembering where messages landed (``remember_as``) in the database so a
later ``Update`` — from any instance, after any restart — edits the same message (or, when the
platform would not edit it, the fresh copy the transport posted instead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.messages import (
    Direct,
    DirectUpload,
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

    async def direct_upload(
        self, org: str, user_id: str, filename: str, content: bytes, title: str, ref: str
    ) -> None:
        """Give a person a file in their direct conversation (Teams asks their consent first,
        and produces the file again from ``ref`` when they accept)."""
        ...


class DeliveryFailed(Exception):
    """The platform refused a message after retries. ``reason`` is safe to log (no content).

    ``maybe_sent``: the request left but no answer came (a timeout, a dropped connection), so
    the platform may have delivered it. Sending it again could show it twice.
    """

    def __init__(
        self, reason: str, *, retry_after: float | None = None, maybe_sent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


def request_left(exc: BaseException) -> bool:
    """Whether a failed call may still have been carried out: no answer after the request
    was sent (a timeout, the connection dropped), as opposed to never connecting."""
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return False
    return isinstance(exc, TimeoutError | aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)


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
            try:
                await self._one(org, intent, ctx)
            except DeliveryFailed as exc:
                log.warning(
                    "delivery failed", extra={"intent": type(intent).__name__, "reason": exc.reason}
                )
                failures.append(exc.reason)
        return failures

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
        elif isinstance(intent, DirectUpload):
            await t.direct_upload(
                org, intent.user_id, intent.filename, intent.content, intent.title, intent.ref
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
