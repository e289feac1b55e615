"""A running bot server (the real ``bot.server`` app) and a fake Bot Connector, over real HTTP.

Activities are POSTed to ``/api/messages`` with ``serviceUrl`` pointing at the fake connector,
so every reply, 1:1 creation and card update the bot makes lands there to be inspected.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from bot.platforms.teams.app import TEAMS_ADAPTER
from bot.runtime import Runtime
from bot.server import build_web_app
from bot.settings import Settings
from handlers.base.core import Core
from tests.fakes.bot_connector import Call, FakeBotConnector

BOT_ID = "28:bot-app-id"
TENANT_A = "tenant-aaaa"
TENANT_B = "tenant-bbbb"
TEAM = "19:team-general@thread.tacv2"
CHANNEL = "19:core-group-ab@thread.tacv2"

_ids = itertools.count(1)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "microsoft_app_id": None,
        "microsoft_app_password": None,
        "teams_allow_unauthenticated": True,
        "slack_bot_token": None,
        "slack_signing_secret": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Person:
    """A Teams user: AAD object id (what handlers see) and the Teams id (29:…)."""

    def __init__(self, name: str, aad: str, tenant: str = TENANT_A) -> None:
        self.name = name
        self.aad = aad
        self.teams_id = f"29:{aad}"
        self.tenant = tenant
        self.personal = f"a:personal-{aad}"

    def account(self) -> dict[str, Any]:
        return {"id": self.teams_id, "aadObjectId": self.aad, "name": self.name}


class Harness:
    def __init__(self, connector: FakeBotConnector, base: str, app: web.Application) -> None:
        self.connector = connector
        self.base = base
        self.app = app
        self.sleeps: list[float] = []

    @property
    def adapter(self) -> Any:
        return self.app[TEAMS_ADAPTER]

    async def post(
        self, activity: Any, *, raw: bytes | None = None, token: str | None = None
    ) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http:
            kwargs: dict[str, Any] = (
                {"data": raw, "headers": {"Content-Type": "application/json"}}
                if raw is not None
                else {"json": activity, "headers": {}}
            )
            if token is not None:
                kwargs["headers"]["Authorization"] = f"Bearer {token}"
            async with http.post(self.base + "/api/messages", **kwargs) as resp:
                text = await resp.text()
                return resp.status, text

    # ---- activity builders ----------------------------------------------------------------------

    def _base(self, who: Person, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
        activity = {
            "id": extra.pop("activity_id", None) or f"in-{next(_ids)}",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": who.account(),
            "recipient": {"id": BOT_ID, "name": "Core group bot"},
            "conversation": {**conversation, "tenantId": who.tenant},
            "channelData": {"tenant": {"id": who.tenant}},
        }
        activity.update(extra)
        return activity

    def channel_conversation(self, channel: str = CHANNEL, thread: str | None = None) -> dict:
        conv_id = f"{channel};messageid={thread or next(_ids)}"
        return {"id": conv_id, "conversationType": "channel", "isGroup": True}

    def in_channel(
        self, who: Person, text: str, channel: str = CHANNEL, **extra: Any
    ) -> dict[str, Any]:
        activity = self._base(
            who,
            self.channel_conversation(channel),
            type="message",
            text=f"<at>Core group bot</at> {text}",
            entities=[
                {
                    "type": "mention",
                    "text": "<at>Core group bot</at>",
                    "mentioned": {"id": BOT_ID, "name": "Core group bot"},
                }
            ],
            **extra,
        )
        activity["channelData"].update({"team": {"id": TEAM}, "channel": {"id": channel}})
        return activity

    def personal(self, who: Person, text: str = "", **extra: Any) -> dict[str, Any]:
        conversation = {"id": who.personal, "conversationType": "personal"}
        return self._base(who, conversation, type="message", text=text, **extra)

    def submit(self, who: Person, data: dict[str, Any], where: Any) -> dict[str, Any]:
        """Action.Submit pressed on a card the bot delivered in conversation ``where``."""
        conv_id = where.conversation if hasattr(where, "conversation") else str(where)
        conv_type = "personal" if conv_id.startswith("a:") else "channel"
        conversation = {"id": conv_id, "conversationType": conv_type}
        extra: dict[str, Any] = {"replyToId": getattr(where, "activity_id", None) or "x"}
        activity = self._base(who, conversation, type="message", text="", value=data, **extra)
        if conv_type == "channel":
            activity["channelData"].update({"team": {"id": TEAM}})
        return activity

    def file_consent(
        self, who: Person, conversation: str, attachment: dict[str, Any], action: str
    ) -> dict[str, Any]:
        """The invoke Teams sends when ``who`` accepts or declines a file consent card."""
        content = attachment["content"]
        value: dict[str, Any] = {
            "type": "fileUpload",
            "action": action,
            "context": content["acceptContext" if action == "accept" else "declineContext"],
        }
        if action == "accept":
            value["uploadInfo"] = self.connector.upload_info(attachment["name"])
        return self._base(
            who,
            {"id": conversation, "conversationType": "personal"},
            type="invoke",
            name="fileConsent/invoke",
            value=value,
        )

    def install_in_team(self, who: Person, channel: str = CHANNEL) -> dict[str, Any]:
        activity = self._base(
            who,
            {"id": channel, "conversationType": "channel", "isGroup": True},
            type="conversationUpdate",
            membersAdded=[{"id": BOT_ID}],
        )
        activity["channelData"].update(
            {"team": {"id": TEAM}, "channel": {"id": channel}, "eventType": "teamMemberAdded"}
        )
        return activity


@asynccontextmanager
async def running(core: Core, **overrides: Any) -> AsyncIterator[Harness]:
    connector = FakeBotConnector()
    await connector.start()
    # The fake connector is the one extra host the bot may answer at, as an operator would list it.
    overrides.setdefault("teams_extra_service_hosts", connector.host)
    runtime = Runtime(settings=settings(**overrides), core=core)
    app = build_web_app(runtime)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    harness = Harness(connector, f"http://127.0.0.1:{port}", app)
    if TEAMS_ADAPTER in app:

        async def no_wait(seconds: float) -> None:
            harness.sleeps.append(seconds)

        app[TEAMS_ADAPTER].transport.connector.sleep = no_wait
    try:
        yield harness
    finally:
        await runner.cleanup()
        await connector.stop()  # which asserts every card passed the Adaptive Card 1.5 schema


# ---- a person's side: the cards they see, pressing and filling them ----------------------------


def actions(call: Call) -> list[dict[str, Any]]:
    card = call.card() or {}
    found = [a for e in card.get("body", []) if e["type"] == "ActionSet" for a in e["actions"]]
    return found + list(card.get("actions", []))


def text_of(call: Call) -> str:
    return json.dumps(call.body, ensure_ascii=False)


def personal_of(h: Harness, who: Person) -> str:
    """The 1:1 conversation id the bot created (or was given) for a person."""
    chats: dict[str, str] = h.__dict__.setdefault("chats", {})
    for create in h.connector.creates():
        if create.body["members"][0]["id"] in (who.aad, who.teams_id):
            chats[who.aad] = str(create.result_id)
    return chats.get(who.aad, who.personal)


async def press(h: Harness, who: Person, card: Call, data: dict[str, Any]) -> None:
    status, _ = await h.post(h.submit(who, data, _Where(card)))
    assert status == 200


class _Where:
    def __init__(self, call: Call) -> None:
        self.conversation = call.conversation
        self.activity_id = call.result_id


async def fill_form(h: Harness, who: Person, form: Call, values: dict[str, Any]) -> None:
    [submit] = [a for a in actions(form) if "form_id" in a.get("data", {})]
    data = dict(submit["data"])
    data.update({f"in_{k}": v for k, v in values.items()})
    await press(h, who, form, data)


def latest_form(h: Harness, conversation: str, form_id: str) -> Call:
    forms = [
        c
        for c in h.connector.screen(conversation)
        if any(a.get("data", {}).get("form_id") == form_id for a in actions(c))
    ]
    assert forms, f"no {form_id} form in {conversation}"
    return forms[-1]
