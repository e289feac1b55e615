"""slack_bolt wiring: verify, keep, acknowledge within Slack's 3 s, then dispatch.

Before acknowledging, the neutral event and what a reply needs are kept in ``inbound_work``
(bot/durable.py) together with the delivery key (event id, action, view id + hash) in
``inbound_seen``: a retry or a replayed click finds the key and changes nothing, whichever
instance it lands on, and a process killed after the ack leaves the work for the next one.
The event is then handled in a background task so a slow database never makes Slack retry.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from bot.durable import InboundQueue
from bot.edge import BadRequest, is_utf8_charset, utf8
from bot.platforms.slack import signature
from bot.platforms.slack.configured import multi_workspace
from bot.platforms.slack.inbound import Inbound, MalformedPayload, parse_body, translate
from bot.platforms.slack.installations import DbInstallationStore, DbOAuthStateStore
from bot.platforms.slack.transport import (
    InstalledTokens,
    SingleToken,
    SlackTransport,
    make_client,
)
from bot.runtime import Runtime
from bot.transport import DeliveryFailed, ReplyContext
from handlers.base.errors import REFUSABLE, CoreGroupError, as_refusal
from handlers.base.events import Event, FormSubmit
from handlers.base.messages import Intent, Reply, plain
from handlers.router import handle
from storage import inbound as inbound_seen

log = logging.getLogger(__name__)

# Least privilege: what the manifest asks for, and what OAuth installs request.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "files:write",
    "channels:read",
    "groups:read",
)
EVENTS_PATH = "/slack/events"
# What Slack posts: events as JSON, commands and interactions form-encoded.
SLACK_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
# Acknowledged deliveries in progress at once; the rest queue in arrival order (and the database
# pool never times out under a burst).
HANDLING_SLOTS = 4
# Of those, how many may run handler code (database + ORM, CPU on this event loop) at once. One:
# the loop then has at most one handler step between two steps of an ack, so acks stay fast under
# load; Slack API calls (network waits) still overlap across all HANDLING_SLOTS. See
# docs/performance.md.
DECIDING_SLOTS = 1
# A form's Submit waits this long for the handler's decision before acknowledging, so an entry
# that cannot be used is shown on the form itself (Slack allows 3 s in all).
FORM_DECIDE_WITHIN = 2.0
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
_SEEN = object()  # a delivery whose key was kept before: acknowledged, nothing more


def _refused_on_form(intents: list[Intent] | None) -> str | None:
    """The refusal to show on the form, when the handler's only answer is one."""
    if intents and len(intents) == 1 and isinstance(intents[0], Reply) and intents[0].on_form:
        return intents[0].message.text
    return None


def _first_input_block(view: dict[str, Any]) -> str | None:
    """Slack shows a form's errors under an input block: the first one, at the top."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def make_transport(runtime: Runtime, *, pace_seconds: float = 1.0) -> SlackTransport:
    """The transport for this configuration (one token, or tokens from installations)."""
    settings = runtime.settings
    if multi_workspace(settings):
        tokens: Any = InstalledTokens(DbInstallationStore(runtime.core.db))
    elif settings.slack_bot_token:
        tokens = SingleToken(settings.slack_bot_token)
    else:
        raise ValueError("Slack is not configured: set SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SECRET")
    return SlackTransport(
        runtime.core.db, tokens, base_url=settings.slack_api_url, pace_seconds=pace_seconds
    )


class SlackAdapter:
    """The Slack half of the server: routes, the bolt app and the background dispatches."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        if "slack" not in runtime.transports:
            runtime.add_transport(make_transport(runtime))
        self.signing_secret = settings.slack_signing_secret or ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(HANDLING_SLOTS)
        self._deciding = asyncio.Semaphore(DECIDING_SLOTS)
        self.queue = InboundQueue(
            runtime.core.db, "slack", settings.coregroup_inbound_lease_seconds
        )
        self.oauth_flow: AsyncOAuthFlow | None = None
        self._socket_mode: Any = None
        self._connecting: asyncio.Future[None] | None = None
        if multi_workspace(settings):
            store = DbInstallationStore(runtime.core.db)
            self.oauth_flow = AsyncOAuthFlow(
                client=make_client(settings.slack_api_url),
                settings=AsyncOAuthSettings(
                    client_id=settings.slack_client_id,
                    client_secret=settings.slack_client_secret,
                    scopes=list(BOT_SCOPES),
                    installation_store=store,
                    installation_store_bot_only=True,
                    state_store=DbOAuthStateStore(runtime.core.db),
                    install_path=INSTALL_PATH,
                    redirect_uri_path=REDIRECT_PATH,
                ),
            )
            self.bolt = AsyncApp(
                signing_secret=self.signing_secret,
                client=make_client(settings.slack_api_url),
                installation_store=store,
                installation_store_bot_only=True,
                oauth_flow=self.oauth_flow,
                request_verification_enabled=True,
                process_before_response=True,  # the work is kept before the answer
            )
        else:
            self.bolt = AsyncApp(
                signing_secret=self.signing_secret,
                client=make_client(settings.slack_api_url, settings.slack_bot_token),
                request_verification_enabled=True,
                process_before_response=True,  # the work is kept before the answer
            )
        self._listen()

    # ---- bolt listeners -----------------------------------------------------------------------

    def _listen(self) -> None:
        anything = re.compile(".*")
        app = self.bolt
        app.command(anything)(self._on_delivery)
        app.action(anything)(self._on_delivery)
        app.view(anything)(self._on_delivery)
        app.view_closed(anything)(self._on_delivery)
        for event_type in (
            "message",
            "app_home_opened",
            "member_joined_channel",
            "member_left_channel",
        ):
            app.event(event_type)(self._on_delivery)

    async def _on_delivery(self, ack: Any, body: dict[str, Any], context: Any) -> None:
        try:
            inbound = translate(body, bot_user_id=getattr(context, "bot_user_id", None))
        except MalformedPayload as exc:
            await ack()
            log.warning("slack payload refused", extra={"reason": str(exc)})
            return
        if inbound.event is None:  # nothing to do (a challenge, a cancelled form, our own post)
            await ack()
            return
        kept = await self._keep(inbound)
        if kept is _SEEN:
            await ack()  # a retry or a replayed click: handled once already
            return
        work_id = kept if isinstance(kept, int) else None
        if isinstance(inbound.event, FormSubmit):
            await self._on_form(ack, inbound, body.get("view") or {}, work_id)
            return
        self._spawn(self._in_turn(inbound, work_id))  # in our tasks before the ack returns
        await ack()

    async def _keep(self, inbound: Inbound) -> int | object | None:
        """Keep the delivery before the ack: its row id; ``_SEEN`` for a repeat; ``None``
        when the database cannot take it (handled in memory then, and most likely answered
        with "try again")."""
        assert inbound.event is not None
        reply = {
            "channel_id": inbound.channel_id,
            "data": inbound.data or {},
            "dedupe_key": inbound.dedupe_key,
        }
        try:
            work_id = await self.queue.put(inbound.event, reply, inbound.dedupe_key)
        except Exception as exc:
            log.warning("slack delivery not kept", extra={"error": type(exc).__name__})
            return None
        return _SEEN if work_id is None else work_id

    async def _on_form(
        self, ack: Any, inbound: Inbound, view: dict[str, Any], work_id: int | None
    ) -> None:
        """Decide before acknowledging (briefly): a refused entry stays on the open form."""
        deciding = asyncio.ensure_future(self._decide(inbound, work_id))
        done, _ = await asyncio.wait({deciding}, timeout=FORM_DECIDE_WITHIN)
        if done and deciding.exception() is None:
            said = _refused_on_form(deciding.result())
            block = _first_input_block(view)
            if said is not None and block is not None:
                if inbound.dedupe_key:  # the corrected Submit has the same view id and hash
                    await inbound_seen.forget(self.runtime.core.db, inbound.dedupe_key)
                await self.queue.done(work_id)
                await ack(response_action="errors", errors={block: said})
                return
        self._spawn(self._carry_out_decided(inbound, deciding, work_id))
        await ack()

    async def _carry_out_decided(
        self,
        inbound: Inbound,
        deciding: asyncio.Future[list[Intent] | None],
        work_id: int | None,
    ) -> None:
        async with self._slots:
            await self.handle(inbound, deciding, work_id=work_id)

    async def _in_turn(self, inbound: Inbound, work_id: int | None) -> None:
        # A burst of clicks waits here instead of crowding the event loop (acks stay fast)
        # and the database pool (no pool timeouts); see docs/performance.md.
        async with self._slots:
            if await self.queue.still_ours(work_id):
                await self.handle(inbound, work_id=work_id)

    async def _resume(self, work_id: int, event: Event, reply: dict[str, Any]) -> None:
        """Work a dead process acknowledged: handled here exactly as if it had just arrived."""
        inbound = Inbound(
            event=event,
            dedupe_key=reply.get("dedupe_key"),
            channel_id=reply.get("channel_id"),
            data=dict(reply.get("data") or {}),
        )
        self._spawn(self._in_turn(inbound, work_id))

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every acknowledged delivery has been handled (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _start_worker(self, _: web.Application) -> None:
        await self.queue.start(self._resume)

    async def _stop_worker(self, _: web.Application) -> None:
        await self.queue.stop()

    # ---- handling -----------------------------------------------------------------------------

    async def _decide(self, inbound: Inbound, work_id: int | None) -> list[Intent] | None:
        """The handler's decision (one at a time); None when seen before. A kept delivery was
        deduped when it was kept; one the database could not keep is deduped here."""
        assert inbound.event is not None
        async with self._deciding:
            if (
                work_id is None
                and inbound.dedupe_key
                and not await inbound_seen.first_time(self.runtime.core.db, inbound.dedupe_key)
            ):
                return None
            return await handle(self.runtime.core, inbound.event)

    async def handle(
        self,
        inbound: Inbound,
        decided: asyncio.Future[list[Intent] | None] | None = None,
        *,
        work_id: int | None = None,
    ) -> None:
        """Decide (unless already under way) and carry out, saying sorry if anything fails;
        then the kept delivery is done (a process killed before that leaves it kept)."""
        event = inbound.event
        if event is None:
            return
        ctx = ReplyContext(
            org=event.actor.org,
            user_id=event.actor.user_id,
            channel_id=inbound.channel_id,
            data=dict(inbound.data or {}),
        )
        try:
            # Inside the try: with the database down the person still hears "try again".
            intents = await (decided if decided is not None else self._decide(inbound, work_id))
            if intents is not None:
                await self.runtime.carry_out(event, intents, ctx)
        except REFUSABLE as exc:
            await self._sorry(ctx, as_refusal(exc).user_message)
        except Exception as exc:
            # Type only: exception text can carry what someone typed.
            log.error(
                "slack dispatch failed",
                extra={"event": type(event).__name__, "error": type(exc).__name__},
            )
            await self._sorry(ctx, CoreGroupError.user_message)
        await self.queue.done(work_id)

    async def _sorry(self, ctx: ReplyContext, text: str) -> None:
        try:
            await self.runtime.transports["slack"].reply(ctx, plain(text))
        except DeliveryFailed as exc:
            log.warning("slack apology not delivered", extra={"reason": exc.reason})

    # ---- HTTP ---------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_post(EVENTS_PATH, self.events)
        app.on_startup.append(self._start_worker)
        app.on_shutdown.append(self._stop_worker)
        app.on_shutdown.append(self._finish_work)
        app.on_cleanup.append(self._close_transport)
        if self.oauth_flow is not None:
            app.router.add_get(INSTALL_PATH, self.install)
            app.router.add_get(REDIRECT_PATH, self.oauth_redirect)

    async def events(self, request: web.Request) -> web.Response:
        """Authenticate, then check the body reads as a Slack payload, then hand it to bolt.

        Unsigned (or badly signed) is 401; signed but unreadable is 400 or 415; nothing that
        arrives here is answered with a 500.
        """
        raw = await request.read()  # over the server's client_max_size: aiohttp answers 413
        if not signature.verified(self.signing_secret, raw, request.headers):
            return web.json_response({"ok": False, "error": "invalid signature"}, status=401)
        if request.content_type not in SLACK_CONTENT_TYPES or not is_utf8_charset(request.charset):
            return web.json_response({"ok": False, "error": "unsupported media type"}, status=415)
        try:
            translate(parse_body(utf8(raw), request.content_type))
        except (MalformedPayload, BadRequest) as exc:
            log.info("slack payload refused", extra={"reason": str(exc)})
            return web.json_response({"ok": False, "error": "malformed payload"}, status=400)
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _finish_work(self, _: web.Application) -> None:
        await self.drain()

    async def _close_transport(self, _: web.Application) -> None:
        close = getattr(self.runtime.transports.get("slack"), "close", None)
        if close is not None:
            await close()

    async def install(self, request: web.Request) -> web.Response:
        assert self.oauth_flow is not None
        return await to_aiohttp_response(
            await self.oauth_flow.handle_installation(await to_bolt_request(request))
        )

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        assert self.oauth_flow is not None
        return await to_aiohttp_response(
            await self.oauth_flow.handle_callback(await to_bolt_request(request))
        )

    # ---- Socket Mode --------------------------------------------------------------------------

    def socket_mode(self, app_token: str) -> Any:
        """A Socket Mode handler for this app (no public URL needed; events over a websocket)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        return AsyncSocketModeHandler(self.bolt, app_token)

    def connect_socket_mode(self) -> None:
        """With ``SLACK_APP_TOKEN``, also take events over Socket Mode, in the background:
        while Slack is unreachable the client keeps retrying, and the server must still answer
        /healthz and stop cleanly on SIGTERM meanwhile."""
        token = self.runtime.settings.slack_app_token
        if not token or self._socket_mode is not None:
            return
        self._socket_mode = self.socket_mode(token)
        self._connecting = asyncio.ensure_future(self._socket_mode.connect_async())

    async def disconnect_socket_mode(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        self._socket_mode = self._connecting = None


SLACK_ADAPTER = web.AppKey("slack_adapter", SlackAdapter)
