"""The Bot Connector REST API (``{serviceUrl}/v3/conversations/…``), with Teams' retry rules.

Teams asks bots to retry 429, 412, 502 and 504 with exponential backoff and jitter, honouring
``Retry-After``. Anything else that is not a success is permanent and raises
:class:`bot.transport.DeliveryFailed` with a reason that carries no message content.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.platforms.teams.origin import OriginRefused, ServiceHosts
from bot.transport import DeliveryFailed, request_left
from storage.types import utcnow

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({412, 429, 502, 504})
BOT_FRAMEWORK_RESOURCE = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"

TokenSource = Callable[[], Awaitable[str | None]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0  # longer than this: give up now, the ledger retries later

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2^attempt, capped."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


class MessageTooBig(DeliveryFailed):
    """Teams refused the activity for its size (413, or 400 ``MessageSizeTooBig``)."""


async def _no_token() -> str | None:
    return None


class BotConnector:
    """A small async client for the conversation endpoints the bot uses."""

    def __init__(
        self,
        *,
        token: TokenSource = _no_token,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 15.0,
        hosts: ServiceHosts | None = None,
    ) -> None:
        self.token = token
        self.hosts = hosts or ServiceHosts()  # Microsoft's Bot Connector hosts only
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    # ---- endpoints ------------------------------------------------------------------------------

    async def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        url = self._url(service_url, f"v3/conversations/{_seg(conversation_id)}/activities")
        return _id(await self._call("POST", url, activity, "send"))

    async def reply(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> str:
        path = f"v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        body = {**activity, "replyToId": activity_id}
        return _id(await self._call("POST", self._url(service_url, path), body, "reply"))

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        path = f"v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        body = {**activity, "id": activity_id}
        await self._call("PUT", self._url(service_url, path), body, "update")

    async def create_conversation(self, service_url: str, params: dict[str, Any]) -> str:
        url = self._url(service_url, "v3/conversations")
        data = await self._call("POST", url, params, "create")
        conversation_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(conversation_id, str) or not conversation_id:
            raise DeliveryFailed("teams create conversation returned no id")
        return conversation_id

    async def members(self, service_url: str, conversation_id: str) -> list[dict[str, Any]]:
        url = self._url(service_url, f"v3/conversations/{_seg(conversation_id)}/members")
        data = await self._call("GET", url, None, "members")
        return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []

    def _url(self, service_url: str, path: str) -> str:
        """The endpoint under ``service_url``, which must be on the allowlist: a reference
        stored before the origin checks existed is never called either."""
        try:
            self.hosts.check(service_url)
        except OriginRefused as refused:
            raise DeliveryFailed(f"teams service url refused ({refused.kind})") from refused
        return service_url.rstrip("/") + "/" + path

    # ---- the retry loop -------------------------------------------------------------------------

    async def _call(self, method: str, url: str, body: dict[str, Any] | None, what: str) -> Any:
        headers = {"Content-Type": "application/json"}
        token = await self.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        last = "no attempt"
        for attempt in range(self.policy.attempts):
            wait: float | None = None
            try:
                async with self._client().request(method, url, json=body, headers=headers) as resp:
                    if resp.status < 300:
                        if resp.status == 204 or resp.content_length == 0:
                            return {}
                        try:
                            return await resp.json(content_type=None)
                        except ValueError:
                            return {}
                    last = f"teams {what} answered {resp.status}"
                    if resp.status == 413 or (
                        resp.status == 400 and "MessageSizeTooBig" in await resp.text()
                    ):
                        raise MessageTooBig(last)
                    if resp.status not in RETRY_STATUSES:
                        raise DeliveryFailed(last)
                    wait = _retry_after(resp.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = f"teams {what} unreachable ({type(exc).__name__})"
                if what in MESSAGE_POSTS and request_left(exc):
                    # Teams may have shown it: sending it again could show it twice.
                    raise DeliveryFailed(last, maybe_sent=True) from exc
            if attempt + 1 >= self.policy.attempts:
                break
            if wait is not None and wait > self.policy.max_retry_after:
                raise DeliveryFailed(last, retry_after=wait)
            delay = wait if wait is not None else self.policy.backoff(attempt)
            log.info("teams retry", extra={"what": what, "attempt": attempt + 1, "delay": delay})
            await self.sleep(delay)
        raise DeliveryFailed(f"{last} after {self.policy.attempts} attempts")


MESSAGE_POSTS = ("send", "reply")  # the calls that put a new message in front of someone


def _retry_after(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def _seg(value: str) -> str:
    # Conversation ids carry ':', ';', '@' and '='; keep them, escape anything path-breaking.
    return quote(value, safe=":;@=,-._~")


def _id(data: Any) -> str:
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""
