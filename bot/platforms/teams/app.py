"""``POST /api/messages``: the Teams endpoint on the shared aiohttp server.

JWT validation (the Agents SDK's ``jwt_authorization_decorator``) guards this route only, so
Slack's routes on the same server keep their own signing checks. Without credentials the route
answers 401, unless ``TEAMS_ALLOW_UNAUTHENTICATED`` is set for local development, which is
logged loudly at start-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
import warnings
from dataclasses import replace
from typing import Any

from aiohttp import web
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import AuthTypes

from bot.durable import InboundQueue
from bot.edge import BadRequest, is_utf8_charset, load_json, utf8
from bot.platforms.teams import inbound
from bot.platforms.teams.connector import (
    BOT_FRAMEWORK_RESOURCE,
    BOT_FRAMEWORK_SCOPE,
    BotConnector,
    TokenSource,
)
from bot.platforms.teams.consent import ConsentAnswers
from bot.platforms.teams.files import CONSENT_INVOKE, UploadHosts
from bot.platforms.teams.inbound import MalformedActivity, Origin
from bot.platforms.teams.origin import OriginRefused, ServiceHosts, check_claim, guard_jwt
from bot.platforms.teams.origin import record_refusal as audit_refusal
from bot.platforms.teams.refs import TENANT_TARGET, ReferenceStore
from bot.platforms.teams.transport import TeamsTransport
from bot.runtime import Runtime
from bot.settings import Settings
from bot.transport import DeliveryFailed, ReplyContext
from handlers.base.errors import REFUSABLE, CoreGroupError, as_refusal
from handlers.base.events import Command, Event, Joined
from handlers.base.messages import plain
from storage import inbound as inbound_seen

log = logging.getLogger(__name__)
# A person @mentioned in a command, as inbound.py leaves them: "@29:…".
TEAMS_MENTION = re.compile(r"@29:\S+")

ROUTE = "/api/messages"
ANSWER_WITHIN = 10.0  # Teams waits 10–15 s for the HTTP answer; slow work carries on after
# Activities handled at once; the rest wait their turn in arrival order, so a burst (a whole
# team pressing buttons after a channel post) never exhausts the database pool. As for Slack.
HANDLING_SLOTS = 4
TEAMS_ADAPTER = web.AppKey("teams_adapter", object)
_SDK_CONFIG_KEY = "agent_configuration"  # the key the SDK's decorator reads

_LOUD = (
    "\n" + "!" * 78 + "\n"
    "!! TEAMS_ALLOW_UNAUTHENTICATED is on: /api/messages accepts activities WITHOUT a JWT.\n"
    "!! Anyone who can reach this server can act as any Teams user. Local development ONLY.\n"
    + "!"
    * 78
)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration | None:
    """What the JWT check accepts; None means the route refuses everything (no credentials)."""
    if settings.microsoft_app_id:
        auth_type = (
            AuthTypes.user_managed_identity
            if settings.microsoft_app_type.lower() == "userassignedmsi"
            else AuthTypes.client_secret
        )
        return AgentAuthConfiguration(
            auth_type=auth_type,
            client_id=settings.microsoft_app_id,
            tenant_id=_token_tenant(settings),
            client_secret=settings.microsoft_app_password,
            anonymous_allowed=False,
        )
    if settings.teams_allow_unauthenticated:
        return AgentAuthConfiguration(anonymous_allowed=True)
    return None


def _announce(config: AgentAuthConfiguration | None) -> None:
    """Say loudly at start-up when the route is open to anyone, or refuses everyone."""
    if config is None:
        log.warning(
            "Teams is not configured (no MICROSOFT_APP_ID): %s answers 401 to every request", ROUTE
        )
    elif config.ANONYMOUS_ALLOWED:
        log.warning(_LOUD)


def _token_tenant(settings: Settings) -> str:
    if settings.microsoft_app_type.lower() == "multitenant":
        return "botframework.com"
    return settings.microsoft_app_tenant_id or "botframework.com"


def token_source(config: AgentAuthConfiguration | None) -> TokenSource:
    """Bearer tokens for the Bot Connector from the SDK's MSAL provider (none in local dev)."""
    if config is None or not config.CLIENT_ID:

        async def no_token() -> str | None:
            return None

        return no_token
    from microsoft_agents.authentication.msal import MsalAuth

    provider = MsalAuth(config)

    async def token() -> str | None:
        return await provider.get_access_token(BOT_FRAMEWORK_RESOURCE, [BOT_FRAMEWORK_SCOPE])

    return token


class TeamsAdapter:
    """Turns each POSTed activity into one neutral event and dispatches it."""

    def __init__(
        self, runtime: Runtime, transport: TeamsTransport, *, authenticated: bool = True
    ) -> None:
        self.runtime = runtime
        self.transport = transport
        self.hosts = transport.connector.hosts
        self.authenticated = authenticated  # a JWT vouches for every activity
        self.refs = ReferenceStore(runtime.core.db)
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(HANDLING_SLOTS)
        self._known: set[tuple[str, str, str]] = set()  # references already stored, this process
        self.queue = InboundQueue(
            runtime.core.db, "teams", runtime.settings.coregroup_inbound_lease_seconds
        )
        uploads = UploadHosts.from_setting(runtime.settings.teams_extra_service_hosts)
        self.consent = ConsentAnswers(runtime.core, transport.connector, uploads)

    async def on_activity(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json" or not is_utf8_charset(request.charset):
            return web.json_response({"error": "send application/json"}, status=415)
        try:  # over the server's client_max_size, read() makes aiohttp answer 413
            payload = load_json(utf8(await request.read()))
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            activity = inbound.parse(payload)
            where = inbound.origin(activity)
        except MalformedActivity as exc:
            return web.json_response({"error": str(exc)}, status=400)
        refused = await self._refuse_origin(request, where)
        if refused is not None:
            return refused
        invoke = activity.type == "invoke"
        key = _seen_key(where) if where.activity_id else None
        event = inbound.to_event(activity, where)
        try:
            kept = await self._keep(event, where, key)
        except REFUSABLE as exc:  # the database is down: say so kindly, don't 500
            await self._sorry(where, as_refusal(exc))
            return _ok(invoke)
        if kept is None:
            return _ok(invoke)  # seen before
        work_id = kept or None
        try:
            await self._remember(activity, where, event)
        except Exception:
            await self._unsee(key, work_id)
            raise
        if invoke and activity.name == CONSENT_INVOKE:  # a file offered in a personal chat
            return await self.consent.answer(activity.value, where)
        if event is None:
            return _ok(invoke)
        task = asyncio.ensure_future(self._handle(event, where, key, work_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_finished)
        done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN)
        if done and task.exception() is not None:
            return web.json_response({"error": "internal error"}, status=500)
        return _ok(invoke)

    async def _refuse_origin(self, request: web.Request, where: Origin) -> web.Response | None:
        """Refuse (and audit) an activity whose service URL the bot must not store or call."""
        try:
            if self.authenticated:
                identity = request.get("claims_identity")
                check_claim(where.service_url, getattr(identity, "claims", None) or {})
            self.hosts.check(where.service_url)
        except OriginRefused as refused:
            log.warning("teams activity refused", extra={"kind": refused.kind})
            db = self.runtime.core.db
            await audit_refusal(db, tenant=where.tenant, user_id=where.user_id, kind=refused.kind)
            status = 401 if refused.kind == "service_url_mismatch" else 403
            return web.json_response({"error": "serviceUrl not accepted"}, status=status)
        return None

    async def _sorry(self, where: Origin, exc: CoreGroupError) -> None:
        ctx = ReplyContext(where.tenant, where.user_id, where.channel_id, where.reply_data())
        try:
            await self.transport.reply(ctx, plain(exc.user_message))
        except DeliveryFailed as failed:
            log.warning("teams error reply failed", extra={"reason": failed.reason})

    async def _keep(self, event: Event | None, where: Origin, key: str | None) -> int | None:
        """Dedupe and, when there is work, keep it until handled (bot/durable.py), before
        anything else: its row id (0 when there is no work), or None when seen before."""
        if event is None:
            fresh = key is None or await inbound_seen.first_time(self.runtime.core.db, key)
            return 0 if fresh else None
        reply = {"origin": dataclasses.asdict(where), "key": key}
        return await self.queue.put(event, reply, key)

    async def _resume(self, work_id: int, event: Event, reply: dict[str, Any]) -> None:
        """Work a dead process kept: handled here as if it had just arrived."""
        where = Origin(**reply["origin"])
        task = asyncio.ensure_future(self._handle(event, where, reply.get("key"), work_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_finished)

    async def _handle(
        self, event: Event, where: Origin, key: str | None, work_id: int | None = None
    ) -> None:
        ctx = ReplyContext(
            org=where.tenant,
            user_id=where.user_id,
            channel_id=where.channel_id,
            data=where.reply_data(),
        )
        try:
            async with self._slots:
                if not await self.queue.still_ours(work_id):
                    return  # another instance took it over meanwhile
                if isinstance(event, Command) and TEAMS_MENTION.search(event.text):
                    event = replace(event, text=await self._people_by_aad(event.text, where))
                await self.runtime.dispatch(event, ctx)
        except REFUSABLE as exc:
            try:
                await self.transport.reply(ctx, plain(as_refusal(exc).user_message))
            except DeliveryFailed as failed:
                log.warning("teams error reply failed", extra={"reason": failed.reason})
        except Exception:
            log.exception("teams activity failed", extra={"event": type(event).__name__})
            await self._unsee(key, work_id)  # let Teams' retry try again
            raise
        await self.queue.done(work_id)

    async def drain(self, _app: web.Application | None = None) -> None:
        """Let work still running finish before the server stops."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---- dedupe ---------------------------------------------------------------------------------

    async def _unsee(self, key: str | None, work_id: int | None = None) -> None:
        await self.queue.done(work_id)
        if key is not None:
            await inbound_seen.forget(self.runtime.core.db, key)

    # ---- conversation references ----------------------------------------------------------------

    async def _remember(self, activity: Any, where: Origin, event: Event | None) -> None:
        """Store how to reach this tenant, channel and person again, proactively."""
        tenant = where.tenant
        await self._store(
            tenant, TENANT_TARGET, {"service_url": where.service_url, "bot_id": where.bot_id}
        )
        person: dict[str, Any] = {"teams_id": where.user_teams_id, "service_url": where.service_url}
        if where.is_personal:
            person["conversation_id"] = where.conversation_id
        await self._store(tenant, where.user_id, person)
        if where.channel_id:
            channel = {
                "service_url": where.service_url,
                "conversation_type": where.conversation_type,
                "team_id": where.extra.get("team_id"),
            }
            await self._store(tenant, where.channel_id, channel)
        for user_id, teams_id, _name in inbound.added_members(activity, where):
            await self._store(
                tenant, user_id, {"teams_id": teams_id, "service_url": where.service_url}
            )
        if isinstance(event, Joined) and where.extra.get("team_id"):
            await self._remember_team_members(where)

    async def _people_by_aad(self, text: str, where: Origin) -> str:
        """Mentions arrive as Teams ids (29:…); the bot knows people by their AAD object id,
        which the conversation's roster gives. Unknown ids are left as they are."""
        roster_of = where.extra.get("team_id") or where.conversation_id
        try:
            members = await self.transport.connector.members(where.service_url, str(roster_of))
        except DeliveryFailed as exc:
            log.info("teams member list unavailable", extra={"reason": exc.reason})
            return text
        for m in members:
            teams_id, aad = m.get("id"), m.get("aadObjectId")
            if isinstance(teams_id, str) and isinstance(aad, str) and teams_id and aad:
                name = str(m.get("name") or "").replace(">", "").replace("|", "")
                text = re.sub(rf"@{re.escape(teams_id)}(?=\s|$)", f"<@{aad}|{name}>", text)
        return text

    async def _remember_team_members(self, where: Origin) -> None:
        # So a member can be sent a 1:1 message before they ever wrote to the bot.
        try:
            members = await self.transport.connector.members(
                where.service_url, str(where.extra["team_id"])
            )
        except DeliveryFailed as exc:
            log.info("teams member list unavailable", extra={"reason": exc.reason})
            return
        for m in members:
            teams_id = m.get("id")
            if isinstance(teams_id, str) and teams_id:
                user_id = m.get("aadObjectId") or teams_id
                data = {"teams_id": teams_id, "service_url": where.service_url}
                await self._store(where.tenant, str(user_id), data)

    async def _store(self, tenant: str, target: str, data: dict[str, Any]) -> None:
        fingerprint = (tenant, target, repr(sorted(data.items())))
        if fingerprint in self._known:
            return
        await self.refs.merge(tenant, target, data)
        self._known.add(fingerprint)


def _finished(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # already logged in _handle; mark it retrieved


def _seen_key(where: Origin) -> str:
    digest = hashlib.sha256(
        f"{where.tenant}|{where.conversation_id}|{where.activity_id}".encode()
    ).hexdigest()
    return f"teams:{digest}"


def _ok(invoke: bool) -> web.Response:
    if invoke:
        # Action.Execute expects an invoke response; the card itself is updated separately.
        return web.json_response(
            {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": ""}
        )
    return web.Response(status=200)


async def _refuse(_request: web.Request) -> web.Response:
    return web.json_response({"error": "Teams is not configured on this server."}, status=401)


def add_teams_transport(runtime: Runtime, config: AgentAuthConfiguration | None) -> TeamsTransport:
    """The Teams transport, added to ``runtime`` (``Runtime.close`` closes it)."""
    settings = runtime.settings
    hosts = ServiceHosts.from_setting(settings.teams_extra_service_hosts)
    connector = BotConnector(token=token_source(config), hosts=hosts)
    bot_id = f"28:{settings.microsoft_app_id}" if settings.microsoft_app_id else ""
    transport = TeamsTransport(runtime.core.db, connector, bot_id=bot_id)
    runtime.add_transport(transport)
    return transport


def mount_teams(app: web.Application, runtime: Runtime) -> None:
    """Add ``POST /api/messages`` to ``app`` (and the Teams transport to ``runtime`` if missing).

    Without credentials the route is still there, answering 401 "not configured", so an operator
    who registered the Azure bot but forgot its settings sees why Teams gets no answer.
    """
    config = auth_configuration(runtime.settings)
    _announce(config)
    if config is None:
        app.router.add_post(ROUTE, _refuse)
        return
    transport = runtime.transports.get("teams")
    if not isinstance(transport, TeamsTransport):
        transport = add_teams_transport(runtime, config)
    adapter = TeamsAdapter(runtime, transport, authenticated=bool(config.CLIENT_ID))
    app[TEAMS_ADAPTER] = adapter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK reads a plain string key (NotAppKeyWarning)
        app[_SDK_CONFIG_KEY] = config
    app.router.add_post(ROUTE, guard_jwt(jwt_authorization_decorator, adapter.on_activity))

    async def _start_worker(_app: web.Application) -> None:
        await adapter.queue.start(adapter._resume)

    async def _stop_worker(_app: web.Application) -> None:
        await adapter.queue.stop()

    async def _close(_app: web.Application) -> None:
        await adapter.drain()
        await adapter.transport.close()

    app.on_startup.append(_start_worker)
    app.on_shutdown.append(_stop_worker)
    app.on_cleanup.append(_close)
