"""Slack payloads -> neutral events. Pure functions: no I/O, no Slack client.

Each function takes the parsed body Slack sent and returns a neutral event (or ``None`` when the
delivery means nothing to the bot, like its own messages). Anything that does not have the shape
Slack documents raises :class:`MalformedPayload`, which the HTTP route answers with 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from bot.edge import BadRequest, load_json
from bot.platforms.slack.render import strip_action_suffix
from handlers.base.events import (
    Actor,
    Command,
    Event,
    FormSubmit,
    HomeOpened,
    Joined,
    Left,
    Press,
    TypedText,
)

PLATFORM = "slack"


class MalformedPayload(Exception):
    """The request body is not a Slack payload we understand. The reason names no content."""


@dataclass(frozen=True)
class Inbound:
    """A translated delivery: the event, the dedupe key and what a reply needs."""

    event: Event | None
    dedupe_key: str | None
    channel_id: str | None = None
    data: dict[str, Any] | None = None


# ---- body parsing ---------------------------------------------------------------------------


def parse_body(raw: str, content_type: str) -> dict[str, Any]:
    """The body of a POST to /slack/events: JSON events, form-encoded commands or payloads."""
    if content_type.startswith("application/json"):
        try:
            body = load_json(raw)
        except BadRequest as exc:
            raise MalformedPayload(str(exc)) from exc
        return _mapping(body, "body")
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    if "payload" in form:
        try:
            payload = load_json(form["payload"])
        except BadRequest as exc:
            raise MalformedPayload(f"payload: {exc}") from exc
        return _mapping(payload, "payload")
    if "command" in form:
        return dict(form)
    raise MalformedPayload("neither an event, a command nor an interaction")


def translate(body: dict[str, Any], *, bot_user_id: str | None = None) -> Inbound:
    """Any body Slack posts to /slack/events, as an :class:`Inbound`."""
    if "command" in body:
        return from_command(body)
    kind = body.get("type")
    if kind == "url_verification":
        _str(body, "challenge")
        return Inbound(event=None, dedupe_key=None)
    if kind == "event_callback":
        return from_event(body, bot_user_id=bot_user_id)
    if kind == "block_actions":
        return from_block_actions(body)
    if kind == "view_submission":
        return from_view_submission(body)
    if kind == "view_closed":
        return from_view_closed(body)
    if kind in ("ssl_check",) or body.get("ssl_check"):
        return Inbound(event=None, dedupe_key=None)
    raise MalformedPayload("unknown payload type")


# ---- helpers --------------------------------------------------------------------------------


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not an object")
    return value


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"missing {key}")
    return value


def _opt_str(obj: dict[str, Any] | None, key: str) -> str | None:
    if obj is None:
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def unescape(text: str) -> str:
    """Slack sends typed ``&``, ``<``, ``>`` escaped; store what the person actually typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _team_id(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str):
        return str(user["team_id"])
    return _str(body, "team_id")


def _interaction_actor(body: dict[str, Any]) -> Actor:
    user = _mapping(body.get("user"), "user")
    name = _opt_str(user, "name") or _opt_str(user, "username") or ""
    return Actor(platform=PLATFORM, org=_team_id(body), user_id=_str(user, "id"), name=name)


def is_direct_channel(channel_id: str | None) -> bool:
    return bool(channel_id) and str(channel_id).startswith("D")


# ---- slash commands -------------------------------------------------------------------------


def from_command(body: dict[str, Any]) -> Inbound:
    """``/reflect <text>`` (form-encoded) -> Command."""
    actor = Actor(
        platform=PLATFORM,
        org=_str(body, "team_id"),
        user_id=_str(body, "user_id"),
        name=str(body.get("user_name") or ""),
    )
    channel_id = _str(body, "channel_id")
    is_direct = is_direct_channel(channel_id) or body.get("channel_name") == "directmessage"
    text = unescape(str(body.get("text") or "")).strip()
    trigger_id = _opt_str(body, "trigger_id")
    return Inbound(
        event=Command(actor=actor, text=text, channel_id=channel_id, is_direct=is_direct),
        dedupe_key=f"slack:cmd:{trigger_id}" if trigger_id else None,
        channel_id=channel_id,
        data={
            "trigger_id": trigger_id,
            "response_url": _opt_str(body, "response_url"),
            "is_direct": is_direct,
        },
    )


# ---- interactivity --------------------------------------------------------------------------


def from_block_actions(body: dict[str, Any]) -> Inbound:
    """A button press or a select change -> Press (the action's suffix is stripped)."""
    actor = _interaction_actor(body)
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise MalformedPayload("no actions")
    action = _mapping(actions[0], "action")
    action_id = strip_action_suffix(_str(action, "action_id"))
    value: str = ""
    if action.get("type") == "static_select":
        selected = action.get("selected_option")
        value = _opt_str(selected if isinstance(selected, dict) else None, "value") or ""
    elif isinstance(action.get("value"), str):
        value = action["value"]
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    assert isinstance(container, dict)
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else None
    channel_id = _opt_str(channel, "id") or _opt_str(container, "channel_id")
    view = body.get("view") if isinstance(body.get("view"), dict) else None
    modal_view_id = _opt_str(view, "id") if view and view.get("type") == "modal" else None
    where = _opt_str(container, "message_ts") or _opt_str(container, "view_id") or "-"
    action_ts = _opt_str(action, "action_ts") or "-"
    return Inbound(
        event=Press(actor=actor, action=action_id, value=value, channel_id=channel_id),
        dedupe_key=f"slack:action:{where}:{action_ts}:{actor.user_id}",
        channel_id=channel_id,
        data={
            "trigger_id": _opt_str(body, "trigger_id"),
            "response_url": _opt_str(body, "response_url"),
            "view_id": modal_view_id,
            "is_direct": is_direct_channel(channel_id),
        },
    )


def _field_value(element: dict[str, Any]) -> str | list[str] | bool | None:
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("value")
        return value if isinstance(value, str) else None
    if kind in ("static_select", "radio_buttons", "external_select"):
        selected = element.get("selected_option")
        return _opt_str(selected, "value") if isinstance(selected, dict) else None
    if kind == "multi_static_select":
        options = element.get("selected_options") or []
        return [str(o["value"]) for o in options if isinstance(o, dict) and "value" in o]
    if kind == "datepicker":
        value = element.get("selected_date")
        return value if isinstance(value, str) else None
    if kind == "users_select":
        value = element.get("selected_user")
        return value if isinstance(value, str) else None
    if kind == "multi_users_select":
        users = element.get("selected_users") or []
        return [str(u) for u in users if isinstance(u, str)]
    if kind == "checkboxes":
        return bool(element.get("selected_options"))
    raise MalformedPayload("unknown input element")


def from_view_submission(body: dict[str, Any]) -> Inbound:
    """A modal's Submit -> FormSubmit with Slack's nested state flattened to field -> value."""
    actor = _interaction_actor(body)
    view = _mapping(body.get("view"), "view")
    state = view.get("state") if isinstance(view.get("state"), dict) else {}
    assert isinstance(state, dict)
    raw_values = state.get("values", {})
    if not isinstance(raw_values, dict):
        raise MalformedPayload("state.values is not an object")
    values: dict[str, str | list[str] | bool | None] = {}
    for block in raw_values.values():
        for action_id, element in _mapping(block, "state block").items():
            values[str(action_id)] = _field_value(_mapping(element, "state element"))
    view_id = _str(view, "id")
    return Inbound(
        event=FormSubmit(
            actor=actor,
            form_id=_str(view, "callback_id"),
            values=values,
            state=str(view.get("private_metadata") or ""),
        ),
        dedupe_key=f"slack:view:{view_id}:{view.get('hash') or '-'}",
        data={"trigger_id": _opt_str(body, "trigger_id"), "view_id": view_id},
    )


def from_view_closed(body: dict[str, Any]) -> Inbound:
    """Cancelling a form changes nothing, so there is no event; only the shape is checked."""
    _interaction_actor(body)
    _mapping(body.get("view"), "view")
    return Inbound(event=None, dedupe_key=None)


# ---- Events API -----------------------------------------------------------------------------


def from_event(body: dict[str, Any], *, bot_user_id: str | None = None) -> Inbound:
    """An Events API callback (message.im, app_home_opened, member_joined_channel,
    member_left_channel)."""
    event = _mapping(body.get("event"), "event")
    event_id = _str(body, "event_id")
    team_id = _str(body, "team_id")
    dedupe = f"slack:event:{event_id}"
    kind = _str(event, "type")
    if kind == "message":
        return _from_message(event, team_id, dedupe)
    if kind == "app_home_opened":
        if event.get("tab") not in (None, "home"):
            return Inbound(event=None, dedupe_key=dedupe)
        actor = Actor(platform=PLATFORM, org=team_id, user_id=_str(event, "user"))
        return Inbound(event=HomeOpened(actor=actor), dedupe_key=dedupe)
    if kind == "member_joined_channel":
        channel_id = _str(event, "channel")
        joined = _str(event, "user")
        if bot_user_id is None or joined != bot_user_id:
            return Inbound(event=None, dedupe_key=dedupe)  # a person joining is not our event
        who = _opt_str(event, "inviter") or joined
        actor = Actor(platform=PLATFORM, org=team_id, user_id=who)
        return Inbound(
            event=Joined(actor=actor, channel_id=channel_id),
            dedupe_key=dedupe,
            channel_id=channel_id,
        )
    if kind == "member_left_channel":
        return _from_left(event, team_id, dedupe, bot_user_id)
    return Inbound(event=None, dedupe_key=dedupe)


def _from_left(
    event: dict[str, Any], team_id: str, dedupe: str, bot_user_id: str | None
) -> Inbound:
    """A person left a channel: the facilitator is asked (the bot itself leaving is not)."""
    channel_id = _str(event, "channel")
    left = _str(event, "user")
    if left == bot_user_id:
        return Inbound(event=None, dedupe_key=dedupe)
    actor = Actor(platform=PLATFORM, org=_opt_str(event, "team") or team_id, user_id=left)
    left_event = Left(actor=actor, channel_id=channel_id, people=(left,))
    return Inbound(event=left_event, dedupe_key=dedupe)


def _from_message(event: dict[str, Any], team_id: str, dedupe: str) -> Inbound:
    # Edits, joins and the bot's own posts arrive as messages too; only a person's new DM counts.
    if event.get("subtype") or event.get("bot_id") or event.get("channel_type") != "im":
        return Inbound(event=None, dedupe_key=dedupe)
    channel_id = _str(event, "channel")
    text = event.get("text")
    if not isinstance(text, str):
        raise MalformedPayload("message without text")
    actor = Actor(platform=PLATFORM, org=team_id, user_id=_str(event, "user"))
    return Inbound(
        event=TypedText(actor=actor, text=unescape(text), channel_id=channel_id, is_direct=True),
        dedupe_key=dedupe,
        channel_id=channel_id,
        data={"is_direct": True},
    )
