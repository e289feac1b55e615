"""A fake Microsoft Bot Connector on 127.0.0.1 (port 0): records every call, hands out ids.

Scriptable: ``fail(status, times, retry_after=…, path_contains=…)`` answers the next matching
calls with that status. It also plays the user's OneDrive for the file consent flow:
:meth:`FakeBotConnector.upload_info` is what Teams puts in an accepted ``fileConsent/invoke``,
and ``PUT /upload/<id>`` keeps what the bot uploaded (``files``). A message over Teams' size
limit (UTF-16) is refused with 413 ``MessageSizeTooBig``. Every outgoing text is checked for
mention injection: an ``<at>…</at>`` that no mention entity of the same activity accounts for
is recorded in ``violations``; a card outside the Adaptive Card 1.5 schema in
``schema_violations``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_AT = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass
class Call:
    method: str
    path: str
    body: Any
    auth: str | None
    result_id: str | None = None  # the id the fake answered with

    @property
    def conversation(self) -> str:
        return self.path.split("/")[3] if self.path.count("/") >= 3 else ""

    @property
    def activity_id(self) -> str | None:
        parts = self.path.split("/")
        return parts[5] if len(parts) > 5 else None

    def texts(self) -> list[str]:
        return list(_strings(self.body))

    def card(self) -> dict[str, Any] | None:
        for a in (self.body or {}).get("attachments", []) or []:
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return a["content"]
        return None


@dataclass
class StoredFile:
    upload_id: str
    content: bytes
    content_range: str | None
    authorization: str | None


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: str | None
    path_contains: str
    method: str = ""


@dataclass
class FakeBotConnector:
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    # Where a card breaks the Adaptive Card 1.5 schema (the harness asserts it empty).
    schema_violations: list[str] = field(default_factory=list)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    url: str = ""
    delay: float = 0.0  # seconds before answering each call (after accepting it)
    files: list[StoredFile] = field(default_factory=list)
    # Teams refuses a message over about 100 KB, counted as UTF-16 (413 MessageSizeTooBig).
    size_limit: int = 100 * 1024
    _failures: list[_Failure] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_put("/upload/{upload_id}", self._upload)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Every test that used this fake proves each card it was sent passes the 1.5 schema.
        assert self.schema_violations == [], "\n".join(self.schema_violations)

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, as ``TEAMS_EXTRA_SERVICE_HOSTS`` lists it."""
        return self.url.split("//", 1)[1].rstrip("/")

    def fail(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: str | None = None,
        path_contains: str = "",
        method: str = "",
    ) -> None:
        self._failures.append(_Failure(status, times, retry_after, path_contains, method))

    def clear(self) -> None:
        self.calls.clear()

    def upload_info(self, name: str) -> dict[str, str]:
        """The ``uploadInfo`` of an accepted file consent, with its upload URL on this fake."""
        upload_id = f"up-{next(self._ids)}"
        return {
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/me/Documents/{name}",
            "name": name,
            "uploadUrl": f"{self.url}upload/{upload_id}",
            "uniqueId": upload_id,
            "fileType": name.rsplit(".", 1)[-1],
        }

    def consents(self, conversation: str | None = None) -> list[tuple[Call, dict[str, Any]]]:
        """File consent cards sent (to ``conversation``), with the attachment itself."""
        return [
            (c, a)
            for c in self.delivered()
            if conversation is None or c.conversation.split(";")[0] == conversation
            for a in (c.body or {}).get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.teams.card.file.consent"
        ]

    # ---- views for assertions -------------------------------------------------------------------

    def sends(self) -> list[Call]:
        """New messages (POST …/activities), not replies in a thread."""
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/activities")]

    def replies(self) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "POST" and "/activities/" in c.path and c.activity_id
        ]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT"]

    def creates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path == "/v3/conversations"]

    def delivered(self) -> list[Call]:
        """Every call that put a message in front of someone."""
        return [
            c for c in self.calls if c.method in ("POST", "PUT") and c.body and "type" in c.body
        ]

    def to(self, conversation: str) -> list[Call]:
        return [c for c in self.delivered() if c.conversation.split(";")[0] == conversation]

    # ---- the server -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = Call(request.method, request.path, body, request.headers.get("Authorization"))
        self.calls.append(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        for failure in self._failures:
            if (
                failure.times > 0
                and failure.path_contains in request.path
                and failure.method in ("", request.method)
            ):
                failure.times -= 1
                headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                return web.json_response(
                    {"error": {"code": "Scripted", "message": "scripted failure"}},
                    status=failure.status,
                    headers=headers,
                )
        if isinstance(body, dict) and "type" in body and self._too_big(body):
            error = {"code": "MessageSizeTooBig", "message": "Message size too big"}
            return web.json_response({"error": error}, status=413)
        if isinstance(body, dict):
            self._check_mentions(call, body)
            self._check_cards(call, body)
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and request.path == "/v3/conversations":
            call.result_id = f"a:personal-{next(self._ids)}"
            return web.json_response({"id": call.result_id}, status=201)
        if request.method == "GET" and parts[-1] == "members":
            return web.json_response(self.members.get(parts[2], []))
        if request.method == "PUT":
            call.result_id = parts[-1]
            return web.json_response({"id": parts[-1]})
        if request.method == "POST" and "activities" in parts:
            call.result_id = f"act-{next(self._ids)}"
            return web.json_response({"id": call.result_id}, status=201)
        return web.json_response({"error": "not found"}, status=404)

    async def _upload(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["upload_id"]
        for failure in self._failures:
            if (
                failure.times > 0
                and failure.path_contains
                and failure.path_contains in request.path
            ):
                failure.times -= 1
                return web.json_response({"error": "scripted"}, status=failure.status)
        self.files.append(
            StoredFile(
                upload_id,
                await request.read(),
                request.headers.get("Content-Range"),
                request.headers.get("Authorization"),
            )
        )
        return web.json_response({"id": upload_id, "name": upload_id}, status=201)

    def screen(self, conversation: str) -> list[Call]:
        """What a conversation shows now: each message in order, as last sent or replaced."""
        shown: dict[str, Call] = {}
        for call in self.delivered():
            if call.conversation.split(";")[0] != conversation or not call.result_id:
                continue
            shown[call.result_id] = call  # a PUT keeps the id, so it replaces in place
        return list(shown.values())

    def _too_big(self, body: dict[str, Any]) -> bool:
        return len(json.dumps(body).encode("utf-16-le")) > self.size_limit

    def _check_cards(self, call: Call, body: dict[str, Any]) -> None:
        from tests.fakes.payload_schemas import adaptive_card_problems

        for a in body.get("attachments") or []:
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                for problem in adaptive_card_problems(a.get("content")):
                    self.schema_violations.append(f"{call.method} {call.path}: {problem}")

    def _check_mentions(self, call: Call, body: dict[str, Any]) -> None:
        allowed: Counter[str] = Counter()
        for holder in [body, *[a.get("content") or {} for a in body.get("attachments") or []]]:
            entities = holder.get("entities") or (holder.get("msteams") or {}).get("entities") or []
            for e in entities:
                if e.get("type") == "mention" and isinstance(e.get("text"), str):
                    allowed[e["text"]] += 1
        seen: Counter[str] = Counter()
        for text in _strings(body):
            for tag in _AT.findall(text):
                seen[tag] += 1
        for tag, count in seen.items():
            # an entity's own "text" field is one occurrence of its tag
            if count > 2 * allowed[tag] or allowed[tag] == 0:
                self.violations.append(f"{call.method} {call.path}: unbacked {tag!r}")


def _strings(value: Any) -> list[str]:
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            out.extend(_strings(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_strings(v))
    return out
