"""Teams activities in, neutral events out.

Only this module reads Bot Framework activity JSON. It also describes where an activity came
from (:class:`Origin`), which the adapter stores so the bot can write back later, proactively.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from microsoft_agents.activity import Activity
from pydantic import ValidationError

from bot.platforms.teams.cards import form_values
from handlers.base.events import (
    Actor,
    Command,
    Event,
    FormSubmit,
    Joined,
    Left,
    Press,
    TypedText,
)

PLATFORM = "teams"
COMMAND_WORD = "reflect"
MAX_TEXT = 20_000  # longer than any answer we accept; the handler says so kindly
# Tenant and AAD ids are 36-character GUIDs; the database keeps up to 64 (longer is not Teams).
MAX_ID_CHARS = 64

_AT_TAG = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


class MalformedActivity(ValueError):
    """The body is not an activity we can read (answered with 400, never 500)."""


@dataclass(frozen=True)
class Origin:
    """Where an activity came from: enough to answer there and to reach people later."""

    tenant: str
    service_url: str
    conversation_id: str
    conversation_type: str  # personal, channel or groupChat
    activity_id: str
    reply_to_id: str
    bot_id: str
    user_teams_id: str
    user_id: str
    user_name: str
    channel_id: str | None  # channel conversation id without ;messageid=, or group chat id
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_personal(self) -> bool:
        return self.conversation_type == "personal"

    def reply_data(self) -> dict[str, Any]:
        """The ReplyContext data the transport reads to answer in the same place."""
        return {
            "service_url": self.service_url,
            "conversation_id": self.conversation_id,
            "conversation_type": self.conversation_type,
            "activity_id": self.activity_id,
            "reply_to_id": self.reply_to_id,
        }


def parse(payload: Any) -> Activity:
    """Validate a request body as an activity."""
    if not isinstance(payload, dict):
        raise MalformedActivity("body is not a JSON object")
    try:
        activity = Activity.model_validate(payload)
    except (ValidationError, ValueError, TypeError) as exc:
        raise MalformedActivity("not an activity") from exc
    if not activity.type:
        raise MalformedActivity("activity without a type")
    return activity


def origin(activity: Activity) -> Origin:
    """Read the addressing facts of an activity; missing essentials are malformed."""
    conversation = activity.conversation
    sender = activity.from_property
    if conversation is None or not conversation.id:
        raise MalformedActivity("activity without a conversation")
    if sender is None or not sender.id:
        raise MalformedActivity("activity without a sender")
    if not activity.service_url:
        raise MalformedActivity("activity without a serviceUrl")
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = _tenant(channel_data, conversation.tenant_id)
    if not tenant:
        raise MalformedActivity("activity without a tenant")
    user_id = sender.aad_object_id or sender.id
    if len(tenant) > MAX_ID_CHARS or len(user_id) > MAX_ID_CHARS:
        raise MalformedActivity("tenant or sender id too long")
    kind = conversation.conversation_type or ("groupChat" if conversation.is_group else "personal")
    base = conversation.id.split(";messageid=")[0]
    # A channel message's conversation id names its thread (";messageid=…"); the channel is
    # the part before it. A group chat is its own "channel".
    channel_id = None if kind == "personal" else base
    return Origin(
        tenant=tenant,
        service_url=activity.service_url,
        conversation_id=conversation.id,
        conversation_type=kind,
        activity_id=activity.id or "",
        reply_to_id=activity.reply_to_id or "",
        bot_id=activity.recipient.id if activity.recipient and activity.recipient.id else "",
        user_teams_id=sender.id,
        user_id=user_id,
        user_name=sender.name or "",
        channel_id=channel_id,
        extra={"team_id": _team_id(channel_data)},
    )


def _tenant(channel_data: dict[str, Any], conversation_tenant: str | None) -> str:
    tenant = channel_data.get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
        return str(tenant["id"])
    return conversation_tenant or ""


def _team_id(channel_data: dict[str, Any]) -> str | None:
    team = channel_data.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return str(team["id"])
    return None


def actor(where: Origin) -> Actor:
    return Actor(platform=PLATFORM, org=where.tenant, user_id=where.user_id, name=where.user_name)


def to_event(activity: Activity, where: Origin) -> Event | None:
    """The neutral event an activity means, or None for activities the bot ignores."""
    kind = activity.type
    if kind == "message":
        data = activity.value
        if isinstance(data, dict) and data:
            return _card_event(data, where)
        return _text_event(_with_mentions(activity, where), where)
    if kind == "invoke" and activity.name == "adaptiveCard/action":
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        action = action if isinstance(action, dict) else {}
        data = dict(action["data"]) if isinstance(action.get("data"), dict) else {}
        if action.get("verb") and "verb" not in data:
            data["verb"] = action["verb"]
        return _card_event(data, where) if data else None
    if kind == "conversationUpdate":
        added = activity.members_added or []
        if any(m.id == where.bot_id for m in added):
            return Joined(actor=actor(where), channel_id=where.channel_id)
        return _left(activity, where)
    return _installation(activity, where)


def _left(activity: Activity, where: Origin) -> Event | None:
    """People (not the bot) removed from the team or channel: the facilitator is asked."""
    removed = tuple(
        m.aad_object_id or m.id
        for m in activity.members_removed or []
        if m.id and m.id != where.bot_id and len(m.aad_object_id or m.id) <= MAX_ID_CHARS
    )
    if not removed:
        return None
    return Left(actor=actor(where), channel_id=where.channel_id, people=removed)


def _installation(activity: Activity, where: Origin) -> Event | None:
    kind = activity.type
    if kind == "installationUpdate":
        if (activity.action or "add").startswith("add"):
            return Joined(actor=actor(where), channel_id=where.channel_id)
        return None
    return None


def added_members(activity: Activity, where: Origin) -> list[tuple[str, str, str]]:
    """People (not the bot) added in a conversationUpdate: (user id, teams id, name)."""
    if activity.type != "conversationUpdate":
        return []
    return [
        (m.aad_object_id or m.id, m.id, m.name or "")
        for m in activity.members_added or []
        if m.id and m.id != where.bot_id
    ]


def _with_mentions(activity: Activity, where: Origin) -> str:
    """The text with the bot's mention removed and other people's as ``@id`` tokens."""
    text = activity.text or ""
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        tag = getattr(entity, "text", None)
        mentioned = getattr(entity, "mentioned", None)
        person = getattr(mentioned, "aad_object_id", None) or getattr(mentioned, "id", None)
        if not isinstance(tag, str) or not tag or not isinstance(person, str):
            continue
        token = "" if person == where.bot_id else f" @{person} "
        text = text.replace(tag, token)
    return text


def _text_event(raw: str, where: Origin) -> Event | None:
    text = clean_text(raw)
    if not text:
        return None
    words = text.split(maxsplit=1)
    starts_with_command = words[0].lower() == COMMAND_WORD
    rest = words[1].strip() if starts_with_command and len(words) > 1 else ""
    if where.is_personal:
        if starts_with_command:
            return Command(actor=actor(where), text=rest, is_direct=True)
        return TypedText(actor=actor(where), text=text, is_direct=True)
    # In a channel or group chat the bot only hears messages that @mention it.
    return Command(
        actor=actor(where),
        text=rest if starts_with_command else text,
        channel_id=where.channel_id,
    )


def clean_text(raw: str) -> str:
    """Message text without mentions, markup or entities, trimmed and bounded."""
    text = _AT_TAG.sub(" ", raw[: MAX_TEXT * 2])
    text = re.sub(r"<br\s*/?>|</p>", "\n", text, flags=re.IGNORECASE)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    return text.strip()[:MAX_TEXT]


def _card_event(data: dict[str, Any], where: Origin) -> Event | None:
    channel = None if where.is_personal else where.channel_id
    form_id = data.get("form_id")
    if isinstance(form_id, str) and form_id:
        state = data.get("state")
        return FormSubmit(
            actor=actor(where),
            form_id=form_id,
            values=form_values(data),
            state=state if isinstance(state, str) else "",
        )
    verb = data.get("verb")
    if isinstance(verb, str) and verb:
        value = data.get("value")
        return Press(
            actor=actor(where),
            action=verb,
            value=value if isinstance(value, str) else "",
            channel_id=channel,
        )
    return None
