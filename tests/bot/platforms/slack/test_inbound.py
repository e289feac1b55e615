"""Slack payloads -> neutral events, and malformed payloads refused with one error type."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.platforms.slack.inbound import MalformedPayload, parse_body, translate
from handlers.base.events import (
    Actor,
    Command,
    FormSubmit,
    HomeOpened,
    Joined,
    Press,
    TypedText,
)
from tests.fakes.slack_api import (
    block_actions,
    encode,
    event_callback,
    slash_command,
    view_submission,
)


def roundtrip(payload: dict[str, Any]) -> Any:
    body, content_type = encode(payload)
    return translate(parse_body(body, content_type), bot_user_id="UBOTUSER")


def test_slash_command_in_a_channel() -> None:
    inbound = roundtrip(
        slash_command(
            "setup child=AB-1 members=<@U0AAA|sam> &amp; co",
            user="U0RO",
            channel="C0GROUP",
            user_name="ro",
        )
    )
    assert inbound.event == Command(
        actor=Actor("slack", "T0001", "U0RO", "ro"),
        text="setup child=AB-1 members=<@U0AAA|sam> & co",
        channel_id="C0GROUP",
        is_direct=False,
    )
    assert inbound.data["trigger_id"] and inbound.data["response_url"]
    assert inbound.dedupe_key.startswith("slack:cmd:")


def test_slash_command_in_a_dm_is_direct() -> None:
    inbound = roundtrip(slash_command("help", user="U0RO", channel="D0RO"))
    assert inbound.event.is_direct is True


def test_button_press_strips_the_uniqueness_suffix() -> None:
    payload = block_actions(
        "dlg.answer~2",
        "7:risks_current:no",
        user="U0SAM",
        channel="D0SAM",
        message_ts="1700000000.000001",
    )
    inbound = roundtrip(payload)
    assert inbound.event == Press(
        actor=Actor("slack", "T0001", "U0SAM", "someone"),
        action="dlg.answer",
        value="7:risks_current:no",
        channel_id="D0SAM",
    )
    action_ts = payload["actions"][0]["action_ts"]
    assert inbound.dedupe_key == f"slack:action:1700000000.000001:{action_ts}:U0SAM"
    assert inbound.data["is_direct"] is True


def test_static_select_uses_the_selected_value() -> None:
    payload = block_actions(
        "pick", "42", user="U0SAM", channel="C1", message_ts="1.2", element="static_select"
    )
    assert roundtrip(payload).event.value == "42"


def test_press_inside_a_modal_remembers_the_view_to_update() -> None:
    view = {"id": "V123", "type": "modal", "hash": "h1", "callback_id": "f", "blocks": []}
    inbound = roundtrip(
        block_actions("x", "1", user="U0SAM", channel=None, message_ts=None, view=view)
    )
    assert inbound.data["view_id"] == "V123"
    assert inbound.event.channel_id is None


def test_view_submission_flattens_every_input_kind() -> None:
    view = {
        "id": "V9",
        "hash": "abc",
        "type": "modal",
        "callback_id": "session.close",
        "private_metadata": "12",
        "blocks": [
            {
                "type": "input",
                "block_id": "t",
                "element": {"type": "plain_text_input", "action_id": "t"},
            },
            {
                "type": "input",
                "block_id": "e",
                "element": {"type": "plain_text_input", "action_id": "e"},
            },
            {
                "type": "input",
                "block_id": "s",
                "element": {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}],
                },
            },
            {
                "type": "input",
                "block_id": "m",
                "element": {
                    "type": "multi_static_select",
                    "action_id": "m",
                    "options": [
                        {"text": {"type": "plain_text", "text": "A"}, "value": "a"},
                        {"text": {"type": "plain_text", "text": "B"}, "value": "b"},
                    ],
                },
            },
            {"type": "input", "block_id": "d", "element": {"type": "datepicker", "action_id": "d"}},
            {
                "type": "input",
                "block_id": "u",
                "element": {"type": "users_select", "action_id": "u"},
            },
            {
                "type": "input",
                "block_id": "us",
                "element": {"type": "multi_users_select", "action_id": "us"},
            },
            {
                "type": "input",
                "block_id": "c",
                "element": {
                    "type": "checkboxes",
                    "action_id": "c",
                    "options": [{"text": {"type": "plain_text", "text": "x"}, "value": "yes"}],
                },
            },
            {
                "type": "input",
                "block_id": "c2",
                "element": {
                    "type": "checkboxes",
                    "action_id": "c2",
                    "options": [{"text": {"type": "plain_text", "text": "x"}, "value": "yes"}],
                },
            },
        ],
    }
    answers = {
        "t": "<!here> words",
        "s": "yes",
        "m": ["b"],
        "d": "2026-03-09",
        "u": "U0A",
        "us": ["U0A", "U0B"],
        "c": True,
        "c2": False,
    }
    inbound = roundtrip(view_submission(view, answers, user="U0RO"))
    assert inbound.event == FormSubmit(
        actor=Actor("slack", "T0001", "U0RO", "someone"),
        form_id="session.close",
        state="12",
        values={
            "t": "<!here> words",
            "e": None,
            "s": "yes",
            "m": ["b"],
            "d": "2026-03-09",
            "u": "U0A",
            "us": ["U0A", "U0B"],
            "c": True,
            "c2": False,
        },
    )
    assert inbound.dedupe_key == "slack:view:V9:abc"


def test_dm_text_becomes_typed_text_as_typed() -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0SAM",
        "user": "U0SAM",
        "text": "a &lt; b &amp; <!channel>",
        "ts": "1.1",
    }
    inbound = roundtrip(event_callback(event, event_id="Ev1"))
    assert inbound.event == TypedText(
        actor=Actor("slack", "T0001", "U0SAM"), text="a < b & <!channel>", channel_id="D0SAM"
    )
    assert inbound.dedupe_key == "slack:event:Ev1"


@pytest.mark.parametrize(
    "extra",
    [{"subtype": "message_changed"}, {"bot_id": "B1"}, {"channel_type": "channel"}],
)
def test_edits_bot_posts_and_channel_chatter_are_not_events(extra: dict[str, str]) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0SAM",
        "user": "U0SAM",
        "text": "hi",
        **extra,
    }
    assert roundtrip(event_callback(event)).event is None


def test_app_home_opened() -> None:
    event = {"type": "app_home_opened", "user": "U0SAM", "channel": "D0SAM", "tab": "home"}
    assert roundtrip(event_callback(event)).event == HomeOpened(Actor("slack", "T0001", "U0SAM"))


def test_bot_added_to_a_channel_is_joined_by_the_inviter() -> None:
    event = {
        "type": "member_joined_channel",
        "user": "UBOTUSER",
        "channel": "C0GROUP",
        "inviter": "U0RO",
    }
    assert roundtrip(event_callback(event)).event == Joined(
        Actor("slack", "T0001", "U0RO"), channel_id="C0GROUP"
    )
    person = {"type": "member_joined_channel", "user": "U0SAM", "channel": "C0GROUP"}
    assert roundtrip(event_callback(person)).event is None


def test_view_closed_changes_nothing() -> None:
    payload = {
        "type": "view_closed",
        "user": {"id": "U0SAM"},
        "team": {"id": "T0001"},
        "view": {"id": "V1"},
    }
    assert roundtrip(payload).event is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        (json.dumps({"type": "event_callback", "team_id": "T1"}), "application/json"),
        (
            json.dumps(
                {
                    "type": "event_callback",
                    "team_id": "T1",
                    "event_id": "E",
                    "event": {
                        "type": "message",
                        "channel_type": "im",
                        "channel": "D1",
                        "user": "U1",
                        "text": 5,
                    },
                }
            ),
            "application/json",
        ),
        (json.dumps({"type": "mystery"}), "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {
                            "type": "block_actions",
                            "user": {"id": "U1"},
                            "team": {"id": "T1"},
                            "actions": [],
                        }
                    )
                }
            ),
            "application/x-www-form-urlencoded",
        ),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {
                            "type": "view_submission",
                            "user": {"id": "U1"},
                            "team": {"id": "T1"},
                            "view": {
                                "id": "V1",
                                "callback_id": "f",
                                "state": {"values": {"b": {"a": {"type": "mystery"}}}},
                            },
                        }
                    )
                }
            ),
            "application/x-www-form-urlencoded",
        ),
        (urlencode({"command": "/reflect", "text": "x"}), "application/x-www-form-urlencoded"),
        ("hello=world", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_payloads_raise_one_error_type(body: str, content_type: str) -> None:
    with pytest.raises(MalformedPayload):
        translate(parse_body(body, content_type))
