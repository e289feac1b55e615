"""A fake Slack Web API: a real aiohttp server on 127.0.0.1, port 0.

It records every call (method, parsed body, headers), answers the methods the bot uses with the
shapes Slack documents, can be scripted to fail (429 + Retry-After, 500, ``ok: false``) a number of
times per method, refuses payloads over Slack's limits like Slack does (``invalid_blocks``), and
records a *violation* whenever mrkdwn or fallback text could ping or link: an unescaped ``<!…>``,
``<#…>``, ``<http…>``, ``<@…>`` for an id the test did not allow, or a bare @channel/@here.
Tests assert ``fake.violations == []``.

It also speaks Socket Mode: ``apps.connections.open`` (with the app-level token) answers a
``ws://`` URL on this server; :meth:`FakeSlack.push` sends an envelope down that websocket as
Slack does, and every acknowledgement the bot sends back is kept in ``socket_acks``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_BARE_BROADCAST = re.compile(r"(?<![\w\u2060])@(channel|here|everyone)\b", re.IGNORECASE)
_MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"}


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    ok: bool = True  # False when the fake answered with an error (scripted or Slack's rules)
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.violations: list[str] = []
        # What slack_sdk's Block Kit models refuse in anything sent (fixtures assert it empty).
        self.schema_violations: list[str] = []
        self.allowed_mentions: set[str] = set()
        self.users: dict[str, str] = {}  # user id -> display name for users.info
        self.bot_user_id = "UBOTUSER"
        self.team_id = "T0001"
        self._scripts: dict[str, list[Scripted]] = {}
        self.delays: dict[str, float] = {}  # method -> seconds before answering (after accepting)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.views: list[dict[str, Any]] = []  # every view as answered (with its id and hash)
        self.socket_acks: list[dict[str, Any]] = []  # what the bot sent back over Socket Mode
        self.socket_connected = asyncio.Event()
        self._socket: web.WebSocketResponse | None = None

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{hook}", self._respond)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
        # Every test that used this fake proves what the bot sent was valid Block Kit.
        assert self.schema_violations == [], "\n".join(self.schema_violations)

    # ---- Socket Mode --------------------------------------------------------------------------

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        self.socket_connected.set()
        async for message in ws:
            if message.type.name == "TEXT":
                self.socket_acks.append(json.loads(message.data))
        return ws

    async def push(self, kind: str, payload: dict[str, Any]) -> str:
        """Send one Socket Mode envelope (``slash_commands``, ``interactive``, ``events_api``)."""
        await asyncio.wait_for(self.socket_connected.wait(), timeout=30)
        assert self._socket is not None
        envelope_id = f"env-{next(self._ids)}"
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "accepts_response_payload": kind != "events_api",
                "payload": payload,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, hook: str = "hook") -> str:
        return f"{self.base}/respond/{hook}"

    # ---- scripting and queries ----------------------------------------------------------------

    def script(self, method: str, *responses: Scripted) -> None:
        """Answer the next calls of ``method`` with these responses, in order."""
        self._scripts.setdefault(method, []).extend(responses)

    def fail(self, method: str, times: int = 1, *, status: int = 500, retry_after: int = 0) -> None:
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
        self.script(method, *[Scripted(status, body, headers) for _ in range(times)])

    def slow(self, method: str, seconds: float) -> None:
        """Accept calls of ``method`` at once but answer only after ``seconds`` (0: no delay),
        as Slack does when it is slow: a client that gives up first never hears it went out."""
        self.delays[method] = seconds

    def error(self, method: str, error: str, times: int = 1) -> None:
        self.script(method, *[Scripted(200, {"ok": False, "error": error}) for _ in range(times)])

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def delivered(self, method: str) -> list[Call]:
        """Calls of ``method`` that Slack would have accepted."""
        return [c for c in self.of(method) if c.ok]

    def messages(self) -> list[Call]:
        return [c for c in self.calls if c.method in ("chat.postMessage", "chat.update")]

    def texts(self, method: str | None = None) -> list[str]:
        """Every text and mrkdwn string the bot sent (for reading what a person saw)."""
        out: list[str] = []
        for c in self.calls:
            if method is None or c.method == method:
                out.extend(_all_texts(c.body))
        return out

    # ---- handlers -----------------------------------------------------------------------------

    async def _parse(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if request.content_type == "application/json":
            body = json.loads(raw or b"{}")
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        for key, value in request.query.items():
            body.setdefault(key, value)  # some methods go as GET-style query parameters
        for key in ("blocks", "view", "users", "files"):
            if isinstance(body.get(key), str) and body[key][:1] in "[{":
                body[key] = json.loads(body[key])
        return dict(body)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._parse(request)
        self.calls.append(Call(method, body, dict(request.headers)))
        call = self.calls[-1]
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        scripted = self._scripts.get(method)
        if scripted:
            answer = scripted.pop(0)
            call.ok = answer.status == 200 and bool((answer.body or {}).get("ok", True))
            return web.json_response(
                answer.body or {"ok": True}, status=answer.status, headers=answer.headers
            )
        auth = request.headers.get("Authorization", "")
        if method == "apps.connections.open":  # Socket Mode: only an app-level token will do
            if not auth.startswith("Bearer xapp-"):
                call.ok = False
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
        elif method != "oauth.v2.access" and not auth.startswith("Bearer xox"):
            return web.json_response({"ok": False, "error": "not_authed"})
        problem = self._check(method, body)
        if problem:
            return web.json_response({"ok": False, "error": problem})
        answer = self._answer(method, body)
        call.response = answer
        return web.json_response(answer)

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.calls.append(
            Call(
                "upload",
                {"file_id": request.match_info["file_id"], "size": len(data)},
                dict(request.headers),
            )
        )
        return web.Response(text="OK - uploaded")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await self._parse(request)
        self.calls.append(Call("response_url", body, dict(request.headers)))
        self._check("response_url", body)
        return web.Response(text="ok")

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": self.bot_user_id,
                "bot_id": "B0001",
                "team_id": self.team_id,
                "team": "Test",
                "url": "https://test.slack.com/",
            }
        if method == "chat.postMessage":
            channel = str(body.get("channel"))
            if channel.startswith("U"):
                channel = "D" + channel
            return {
                "ok": True,
                "channel": channel,
                "ts": self._next_ts(),
                "message": {"text": body.get("text", "")},
            }
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.open":
            users = str(body.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            view = dict(body.get("view") or {})
            view.setdefault("id", body.get("view_id") or f"V{next(self._ids):05d}")
            view["hash"] = f"h{next(self._ids)}"
            self.views.append(view)
            return {"ok": True, "view": view}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):05d}"
            return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files") or []
            return {
                "ok": True,
                "files": [
                    {"id": f.get("id"), "title": f.get("title")}
                    for f in files
                    if isinstance(f, dict)
                ],
            }
        if method == "users.info":
            user = str(body.get("user"))
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "name": self.users.get(user, user),
                    "real_name": self.users.get(user, user),
                },
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base.replace("http://", "ws://") + "/socket"}
        if method == "oauth.v2.access":
            return {
                "ok": True,
                "access_token": "xoxb-installed",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": self.bot_user_id,
                "app_id": "A0001",
                "team": {"id": "T0002", "name": "Second"},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "U0INSTALL"},
            }
        return {"ok": True}

    # ---- Slack's rules ------------------------------------------------------------------------

    def _check(self, method: str, body: dict[str, Any]) -> str | None:
        from tests.fakes.payload_schemas import block_kit_problems, view_problems

        if isinstance(body.get("view"), dict):
            problems = view_problems(body["view"])
        else:
            problems = block_kit_problems(body["blocks"]) if "blocks" in body else []
        self.schema_violations += [f"{method}: {p}" for p in problems]
        for text in _checked_texts(method, body):
            self._check_text(method, text)
        blocks = body.get("blocks")
        view = body.get("view")
        if isinstance(view, dict):
            blocks = view.get("blocks")
            title = (view.get("title") or {}).get("text", "")
            if len(title) > 24 or len((view.get("submit") or {}).get("text", "")) > 24:
                return "invalid_arguments"
            if len(str(view.get("private_metadata", ""))) > 3000:
                return "invalid_arguments"
        if blocks is None:
            return None
        limit = 100 if isinstance(view, dict) else 50
        if not isinstance(blocks, list) or len(blocks) > limit:
            return "invalid_blocks"
        for block in blocks:
            if _block_problem(block):
                return "invalid_blocks"
        return None

    def _check_text(self, method: str, text: str) -> None:
        for m in re.finditer(r"<([^>]*)>?", text):
            token = m.group(0)
            mention = _MENTION.fullmatch(token)
            if mention and mention.group(1) in self.allowed_mentions:
                continue
            self.violations.append(f"{method}: unescaped {token[:40]!r}")
        if _BARE_BROADCAST.search(text):
            self.violations.append(f"{method}: bare broadcast word")


def _block_problem(block: Any) -> bool:
    if not isinstance(block, dict):
        return True
    text = block.get("text")
    if block.get("type") == "section" and isinstance(text, dict) and len(text["text"]) > 3000:
        return True
    if block.get("type") == "header" and isinstance(text, dict) and len(text["text"]) > 150:
        return True
    if len(block.get("fields", [])) > 10:
        return True
    ids: set[str] = set()
    for el in block.get("elements", []):
        if not isinstance(el, dict):
            return True
        if el.get("type") == "button":
            if len(el["text"]["text"]) > 75 or len(el.get("value", "")) > 2000:
                return True
            if len(el.get("action_id", "")) > 255 or el.get("action_id") in ids:
                return True
            ids.add(el.get("action_id", ""))
    return False


def _checked_texts(method: str, body: dict[str, Any]) -> list[str]:
    """Text Slack parses for mentions/links: message fallbacks and every mrkdwn object."""
    out: list[str] = []
    if method in _MESSAGE_METHODS and isinstance(body.get("text"), str):
        out.append(body["text"])
    _collect_mrkdwn(body.get("blocks"), out)
    _collect_mrkdwn(body.get("view"), out)
    return out


def _collect_mrkdwn(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            out.append(node["text"])
        for value in node.values():
            _collect_mrkdwn(value, out)
    elif isinstance(node, list):
        for item in node:
            _collect_mrkdwn(item, out)


def _all_texts(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(_all_texts(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_all_texts(item))
    return out


# ---- Slack's side of the bot's endpoint: real payload shapes, properly signed -----------------

_counter = itertools.count(1)


def _uid() -> int:
    return next(_counter)


def slash_command(
    text: str,
    *,
    user: str,
    channel: str,
    team: str = "T0001",
    user_name: str = "someone",
    response_url: str = "https://hooks.slack.invalid/commands/1",
) -> dict[str, str]:
    n = _uid()
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "council",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "core-group",
        "user_id": user,
        "user_name": user_name,
        "command": "/reflect",
        "text": text,
        "api_app_id": "A0001",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{n}.1.trigger{n}",
    }


def block_actions(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str | None,
    message_ts: str | None,
    team: str = "T0001",
    action_ts: str | None = None,
    view: dict[str, Any] | None = None,
    element: str = "button",
) -> dict[str, Any]:
    n = _uid()
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": f"b{n}",
        "type": element,
        "action_ts": action_ts or f"1700000100.{n:06d}",
    }
    if element == "static_select":
        action["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}
    else:
        action["value"] = value
        action["text"] = {"type": "plain_text", "text": "x"}
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A0001",
        "token": "legacy",
        "team": {"id": team, "domain": "council"},
        "trigger_id": f"{n}.2.trigger{n}",
        "actions": [action],
    }
    if view is not None:
        body["container"] = {"type": "view", "view_id": view.get("id")}
        body["view"] = view
    else:
        body["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        body["channel"] = {"id": channel, "name": "x"}
        body["message"] = {"ts": message_ts, "type": "message", "text": "..."}
        body["response_url"] = "https://hooks.slack.invalid/actions/1"
    return body


def state_for(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Slack's ``view.state.values`` for a modal, filled with ``answers`` by field id."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block["element"]
        aid = el["action_id"]
        given = answers.get(aid)
        kind = el["type"]
        if kind == "plain_text_input":
            state: dict[str, Any] = {"type": kind, "value": given}
        elif kind == "static_select":
            opt = next((o for o in el["options"] if o["value"] == given), None)
            state = {"type": kind, "selected_option": opt}
        elif kind == "multi_static_select":
            state = {
                "type": kind,
                "selected_options": [o for o in el["options"] if o["value"] in (given or [])],
            }
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": given}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": given}
        elif kind == "multi_users_select":
            state = {"type": kind, "selected_users": list(given or [])}
        elif kind == "checkboxes":
            state = {"type": kind, "selected_options": el["options"] if given else []}
        else:
            raise AssertionError(f"unknown element {kind}")
        values[block["block_id"]] = {aid: state}
    return {"values": values}


def view_submission(
    view: dict[str, Any], answers: dict[str, Any], *, user: str, team: str = "T0001"
) -> dict[str, Any]:
    n = _uid()
    submitted = dict(view)
    submitted["state"] = state_for(view, answers)
    submitted.setdefault("id", f"VSUB{n}")
    submitted.setdefault("hash", f"hash{n}")
    submitted["team_id"] = team
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "council"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A0001",
        "token": "legacy",
        "trigger_id": f"{n}.3.trigger{n}",
        "view": submitted,
        "response_urls": [],
    }


def event_callback(
    event: dict[str, Any], *, team: str = "T0001", event_id: str | None = None
) -> dict[str, Any]:
    n = _uid()
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{n:08d}",
        "event_time": 1700000000 + n,
        "authorizations": [{"team_id": team, "user_id": "UBOTUSER", "is_bot": True}],
    }


def signed(
    secret: str, body: str, *, timestamp: int | None = None, content_type: str = "application/json"
) -> dict[str, str]:
    import time

    from slack_sdk.signature import SignatureVerifier

    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


def encode(payload: dict[str, Any]) -> tuple[str, str]:
    """(body, content type) as Slack sends this payload."""
    from urllib.parse import urlencode

    if "command" in payload:
        return urlencode(payload), "application/x-www-form-urlencoded"
    if payload.get("type") in ("block_actions", "view_submission", "view_closed"):
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    return json.dumps(payload), "application/json"


# ---- the bot's server, wired to this fake -----------------------------------------------------

SIGNING_SECRET = "test-signing-secret"


@dataclass
class Sent:
    status: int
    text: str


class SlackHarness:
    """The real aiohttp app from ``bot.server`` on 127.0.0.1, talking to a :class:`FakeSlack`."""

    def __init__(self, core: Any, fake: FakeSlack, **settings: Any) -> None:
        from bot.platforms.slack.app import SLACK_ADAPTER, make_transport
        from bot.platforms.slack.configured import slack_configured
        from bot.runtime import Runtime
        from bot.server import build_web_app
        from bot.settings import Settings

        config = {
            "slack_bot_token": "xoxb-test",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake.api_url,
            **settings,
        }
        self.fake = fake
        self.core = core
        self.runtime = Runtime(settings=Settings(_env_file=None, **config), core=core)
        if slack_configured(self.runtime.settings):
            self.runtime.add_transport(make_transport(self.runtime, pace_seconds=0))
        self.app = build_web_app(self.runtime)
        self.adapter = self.app.get(SLACK_ADAPTER, None)
        self._server: Any = None

    async def start(self) -> SlackHarness:
        from aiohttp.test_utils import TestServer

        self._server = TestServer(self.app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def stop(self) -> None:
        if self.adapter is not None:
            await self.adapter.drain()
        if self._server is not None:
            await self._server.close()

    def url(self, path: str) -> str:
        return str(self._server.make_url(path))

    async def post_raw(self, body: str, headers: dict[str, str]) -> Sent:
        import aiohttp

        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url("/slack/events"), data=body.encode(), headers=headers) as resp,
        ):
            text = await resp.text()
        if self.adapter is not None:
            await self.adapter.drain()
        return Sent(resp.status, text)

    async def send(
        self,
        payload: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        retry: int | None = None,
    ) -> Sent:
        """Deliver a payload as Slack would (signed), then wait until it has been handled."""
        body, content_type = encode(payload)
        headers = signed(secret, body, timestamp=timestamp, content_type=content_type)
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.post_raw(body, headers)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
        import aiohttp

        async with (
            aiohttp.ClientSession() as http,
            http.get(self.url(path), headers=headers or {}, allow_redirects=False) as resp,
        ):
            return resp.status, await resp.text(), resp.headers
