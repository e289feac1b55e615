"""Where a Teams activity may send the bot: the ``serviceUrl`` checks, before anything is stored.

An activity names the Bot Connector endpoint (``serviceUrl``) the bot answers at, with its Bot
Framework token on every call, and the bot stores it to reach people later. So a URL is trusted
only when its host is one of Microsoft's Bot Connector hosts for Teams (public, GCC, GCC High,
DoD) or one the operator listed in ``TEAMS_EXTRA_SERVICE_HOSTS``; with a JWT it must also be the
very URL the token was issued for (its ``serviceurl`` claim), as the Bot Framework asks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from aiohttp import web

from bot.hosts import DEFAULT_PORTS, HostRule, host_rule, host_rules
from bot.platforms.teams.token_header import token_header_problem
from handlers.base import audit
from storage.db import Database
from storage.errors import Unavailable
from storage.types import utcnow

log = logging.getLogger(__name__)

# Microsoft's Bot Connector hosts for Teams (the service URLs of the Teams channel and the
# well-known proactive endpoints of the Agents SDK), https on the default port only.
DEFAULT_SERVICE_HOSTS = (
    "smba.trafficmanager.net",  # public cloud: /amer/, /emea/, /apac/, /teams/ …
    "*.smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",  # US Government Community Cloud
    "smba.infra.gov.teams.microsoft.us",  # GCC High
    "smba.infra.dod.teams.microsoft.us",  # US Department of Defense
)
SERVICE_URL_CLAIM = "serviceurl"
EXTRA_HOSTS_SETTING = "TEAMS_EXTRA_SERVICE_HOSTS"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class OriginRefused(Exception):
    """A service URL the bot must not store or call; ``kind`` is safe to log and audit."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class ServiceHosts:
    """The allowlist: Microsoft's hosts (https only) plus the operator's extra ones."""

    extra: tuple[HostRule, ...] = ()

    @classmethod
    def from_setting(cls, value: str | None) -> ServiceHosts:
        """``TEAMS_EXTRA_SERVICE_HOSTS``: comma separated ``host`` or ``host:port`` entries."""
        return cls(host_rules(value, EXTRA_HOSTS_SETTING))

    def check(self, url: str) -> None:
        """Raise :class:`OriginRefused` unless ``url`` may be stored and called."""
        parts = _split(url)
        host, port, scheme = parts.hostname or "", parts.port, parts.scheme
        if any(rule.matches(host, port, scheme) for rule in self.extra):
            return
        microsoft = (host_rule(h, EXTRA_HOSTS_SETTING) for h in DEFAULT_SERVICE_HOSTS)
        if not any(rule.matches(host, port, "https") for rule in microsoft):
            raise OriginRefused("host_not_allowed")
        if scheme != "https":
            raise OriginRefused("not_https")

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except OriginRefused:
            return False
        return True


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise OriginRefused("malformed_service_url") from exc
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise OriginRefused("malformed_service_url")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise OriginRefused("malformed_service_url")
    return parts


def check_claim(service_url: str, claims: dict[str, Any]) -> None:
    """With a JWT, the activity must name the service URL its token was issued for."""
    if claims.get(SERVICE_URL_CLAIM) != service_url:
        raise OriginRefused("service_url_mismatch")


# ---- the JWT header, before the SDK sees it ------------------------------------------------------

_AUTHENTICATED = "teams_jwt_ok"


def guard_jwt(sdk_check: Callable[[Handler], Handler], handler: Handler) -> Handler:
    """``handler`` behind the SDK's JWT check, where any token it cannot read is a 401.

    The SDK raises (a 500) on some malformed tokens, such as one without a ``kid``.
    """

    async def passed(request: web.Request) -> web.Response:
        request[_AUTHENTICATED] = True
        return web.Response()

    checked = sdk_check(passed)

    async def guarded(request: web.Request) -> web.StreamResponse:
        problem = token_header_problem(request.headers.get("Authorization"))
        if problem is not None:
            log.warning("teams token refused", extra={"reason": problem})
            return _unauthorised()
        try:
            answer = await checked(request)
        except Exception as exc:  # the token, not the server, is at fault
            log.warning("teams jwt refused", extra={"error": type(exc).__name__})
            return _unauthorised()
        if not request.get(_AUTHENTICATED):
            return answer
        return await handler(request)

    return guarded


def _unauthorised() -> web.Response:
    return web.json_response({"error": "Invalid token or authentication failed."}, status=401)


# ---- the audit trail ---------------------------------------------------------------------------


async def record_refusal(db: Database, *, tenant: str, user_id: str, kind: str) -> None:
    """Audit a refused activity: ids and the kind of refusal, never the URL itself."""
    try:
        async with db.write() as s:
            await audit.record(
                s,
                org_id=None,
                actor=user_id[:64],
                action="teams.origin_refused",
                subject=f"tenant:{tenant}"[:80],
                at=utcnow(),
                reason=kind,
            )
    except Unavailable:
        log.warning("teams origin refusal not audited: database unavailable", extra={"kind": kind})
