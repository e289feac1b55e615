"""The Slack side of :class:`bot.transport.Transport`: Web API calls with retries and pacing.

slack_sdk's async retry handlers take care of 429 (honouring ``Retry-After``), 5xx and dropped
connections; what still fails afterwards becomes ``DeliveryFailed`` whose reason is the method and
Slack's error code only, never message content.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.render import (
    RenderError,
    SlackMessage,
    render_form,
    render_home,
    render_message,
)
from bot.transport import DeliveryFailed, PlatformRef, ReplyContext, request_left
from handlers.base.messages import Form, Message
from storage.conversations import ConversationStore
from storage.db import Database

log = logging.getLogger(__name__)

PLATFORM = "slack"


class TokenSource(Protocol):
    async def token_for(self, org: str) -> str: ...


class SingleToken:
    """Single-workspace mode: one bot token for every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def token_for(self, org: str) -> str:
        return self.token


class InstalledTokens:
    """Multi-workspace mode: the bot token saved when the workspace installed the app."""

    def __init__(self, store: Any) -> None:
        self.store = store  # bot.platforms.slack.installations.DbInstallationStore

    async def token_for(self, org: str) -> str:
        token: str | None = await self.store.bot_token(org)
        if not token:
            raise DeliveryFailed("slack: app not installed in this workspace")
        return token


def retry_handlers(max_retries: int = 2) -> list[Any]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
        AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
        AsyncServerErrorRetryHandler(max_retry_count=max_retries),
    ]


def make_client(base_url: str, token: str | None = None) -> AsyncWebClient:
    client = AsyncWebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers = retry_handlers()
    return client


class Pacer:
    """Spaces chat.postMessage calls to one channel about ``interval`` seconds apart."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        if self.interval <= 0:
            return
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            now = self.clock()
            due = self._next.get(channel, now)
            if due > now:
                await self.sleep(due - now)
                now = due
            self._next[channel] = now + self.interval

    def sent(self, channel: str) -> None:
        """The call to ``channel`` has been answered: the next one waits a full interval from
        now, so a slow call (or a retried one) cannot bring two messages closer than that."""
        if self.interval > 0:
            self._next[channel] = max(self._next.get(channel, 0.0), self.clock() + self.interval)


class SlackTransport:
    platform = PLATFORM

    def __init__(
        self,
        db: Database,
        tokens: TokenSource,
        *,
        base_url: str = "https://slack.com/api/",
        pace_seconds: float = 1.0,
        timeout_seconds: float = 15.0,
    ) -> None:
        self.db = db
        self.conversations = ConversationStore(db, PLATFORM)  # people's DM channels
        self.tokens = tokens
        self.base_url = base_url
        self.pacer = Pacer(pace_seconds)
        self.timeout_seconds = timeout_seconds
        self._clients: dict[str, AsyncWebClient] = {}
        self._session: aiohttp.ClientSession | None = None

    async def client(self, org: str) -> AsyncWebClient:
        token = await self.tokens.token_for(org)
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(self.base_url, token)
        client.session = self._http()
        return client

    def _http(self) -> aiohttp.ClientSession:
        # One connection pool for every call: without it slack_sdk opens (and TLS-handshakes)
        # a new connection per call, which costs more than the call (docs/performance.md).
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)
            )
        return self._session

    async def close(self) -> None:
        """Close the connection pool (server shutdown); a later call opens a new one."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, org: str, method: str, **kwargs: Any) -> dict[str, Any]:
        """One Web API call; every failure after retries becomes ``DeliveryFailed``."""
        client = await self.client(org)
        try:
            response = await client.api_call(method, json=kwargs)
            return dict(response.data) if isinstance(response.data, dict) else {}
        except SlackApiError as exc:
            code = exc.response.get("error") if exc.response is not None else None
            retry_after = None
            if exc.response is not None and exc.response.status_code == 429:
                header = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                    "retry-after"
                )
                retry_after = float(header) if header else None
            raise DeliveryFailed(
                f"slack {method}: {code or 'error'}", retry_after=retry_after
            ) from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(
                f"slack {method}: {type(exc).__name__}",
                maybe_sent=method == "chat.postMessage" and request_left(exc),
            ) from exc

    # ---- messages -----------------------------------------------------------------------------

    async def _post_pages(
        self, org: str, channel: str, pages: list[SlackMessage], thread_ts: str | None
    ) -> PlatformRef:
        """Post each page; later pages go in the thread so a long record stays together."""
        first: PlatformRef | None = None
        for page in pages:
            await self.pacer.wait(channel)
            kwargs: dict[str, Any] = {"channel": channel, **page.payload()}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            try:
                data = await self.call(org, "chat.postMessage", **kwargs)
            finally:
                self.pacer.sent(channel)
            ref = {"channel": str(data.get("channel") or channel), "ts": str(data.get("ts"))}
            if first is None:
                first = ref
                thread_ts = thread_ts or ref["ts"]
                channel = ref["channel"]
        assert first is not None
        return first

    def _pages(self, message: Message) -> list[SlackMessage]:
        try:
            return render_message(message)
        except RenderError as exc:
            raise DeliveryFailed(f"slack render: {exc}") from exc

    async def post(
        self, org: str, channel_id: str, message: Message, thread: PlatformRef | None
    ) -> PlatformRef:
        thread_ts = str(thread["ts"]) if thread and thread.get("ts") else None
        return await self._post_pages(org, channel_id, self._pages(message), thread_ts)

    async def direct(self, org: str, user_id: str, message: Message) -> PlatformRef:
        channel = await self.dm_channel(org, user_id)
        return await self._post_pages(org, channel, self._pages(message), None)

    async def dm_channel(self, org: str, user_id: str) -> str:
        """The 1:1 conversation with a person, opened once and remembered in the database."""
        target = f"dm:{user_id}"
        known = await self.conversations.find(org, target)
        if known and known.get("channel"):
            return str(known["channel"])
        data = await self.call(org, "conversations.open", users=user_id)
        channel = str((data.get("channel") or {}).get("id") or "")
        if not channel:
            raise DeliveryFailed("slack conversations.open: no channel")
        await self.conversations.merge(org, target, {"channel": channel})
        return channel

    async def update(self, org: str, ref: PlatformRef, message: Message) -> PlatformRef | None:
        pages = self._pages(message)
        # An update keeps to one message; a record long enough to need more is posted, not edited.
        try:
            await self.call(
                org, "chat.update", channel=ref["channel"], ts=ref["ts"], **pages[0].payload()
            )
            return None
        except DeliveryFailed as failed:
            if failed.retry_after is not None:
                raise  # Slack asked us to wait: a fresh post now would be refused as well
            # Deleted, too old to edit, or Slack kept failing: show the current state anew.
            log.warning("slack update failed, posting afresh", extra={"reason": failed.reason})
        return await self._post_pages(org, str(ref["channel"]), pages, None)

    async def reply(self, ctx: ReplyContext, message: Message) -> None:
        page = self._pages(message)[0]
        channel = ctx.channel_id
        if channel and (ctx.data.get("is_direct") or channel.startswith("D")):
            await self.call(ctx.org, "chat.postMessage", channel=channel, **page.payload())
            return
        if channel:
            try:
                await self.call(
                    ctx.org,
                    "chat.postEphemeral",
                    channel=channel,
                    user=ctx.user_id,
                    **page.payload(),
                )
                return
            except DeliveryFailed:
                # The bot may not be in that channel; a slash command's response_url still works.
                if not ctx.data.get("response_url"):
                    raise
            await self._respond(str(ctx.data["response_url"]), page)
            return
        # From a modal or App Home there is no channel: answer in the person's DM with the app.
        await self.call(ctx.org, "chat.postMessage", channel=ctx.user_id, **page.payload())

    async def _respond(self, url: str, page: SlackMessage) -> None:
        body = {"response_type": "ephemeral", "replace_original": False, **page.payload()}
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as resp,
            ):
                if resp.status >= 400:
                    raise DeliveryFailed(f"slack response_url: http {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"slack response_url: {type(exc).__name__}") from exc

    async def open_form(self, ctx: ReplyContext, form: Form) -> None:
        try:
            view = render_form(form)
        except RenderError as exc:
            raise DeliveryFailed(f"slack render: {exc}") from exc
        view_id = ctx.data.get("view_id")
        if view_id:
            await self.call(ctx.org, "views.update", view_id=view_id, view=view)
            return
        trigger_id = ctx.data.get("trigger_id")
        if not trigger_id:
            raise DeliveryFailed("slack views.open: no trigger_id")
        await self.call(ctx.org, "views.open", trigger_id=trigger_id, view=view)

    async def publish_home(self, org: str, user_id: str, message: Message) -> None:
        await self.call(org, "views.publish", user_id=user_id, view=render_home(message))

    async def upload(
        self,
        org: str,
        channel_id: str,
        filename: str,
        content: bytes,
        title: str,
        thread: PlatformRef | None,
    ) -> None:
        client = await self.client(org)
        await self.pacer.wait(channel_id)  # a file is one more message in that conversation
        kwargs: dict[str, Any] = {
            "channel": channel_id,
            "filename": filename,
            "content": content,
            "title": title,
        }
        if thread and thread.get("ts"):
            kwargs["thread_ts"] = str(thread["ts"])
        await self.pacer.wait(channel_id)  # sharing the file is a message in the channel too
        try:
            await client.files_upload_v2(**kwargs)
        except SlackApiError as exc:
            code = exc.response.get("error") if exc.response is not None else None
            raise DeliveryFailed(f"slack files_upload_v2: {code or 'error'}") from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"slack files_upload_v2: {type(exc).__name__}") from exc
        finally:
            self.pacer.sent(channel_id)

    async def direct_upload(
        self, org: str, user_id: str, filename: str, content: bytes, title: str, ref: str
    ) -> None:
        """The file in the person's DM with the app (Slack needs no consent step)."""
        channel = await self.dm_channel(org, user_id)
        await self.upload(org, channel, filename, content, title, None)
