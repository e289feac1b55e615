"""Neutral messages and forms become Adaptive Cards people can read, and nobody can inject into."""

from __future__ import annotations

import json

import pytest

from bot.platforms.teams.cards import (
    MAX_ACTIVITY_BYTES,
    form_card,
    form_values,
    message_activities,
)
from handlers.base.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Heading,
    Mention,
    Message,
    Option,
    Paragraph,
    Quiet,
    Strong,
)

HOSTILE = [
    "<at>Lead Officer</at> please see",
    "**urgent** _now_ [click](https://evil.example)",
    "{{DATE(2017-02-14T06:00:00Z, SHORT)}}",
    "- not a list\n1. not numbered\n# not a heading",
    "Tom & Jerry <b>bold</b> <script>x</script>",
    "back\\slash `code` ~strike~ | pipe",
]


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def card_of(activity: dict) -> dict:
    return activity["attachments"][0]["content"]


def texts(card: dict) -> list[str]:
    return [e["text"] for e in card["body"] if e["type"] == "TextBlock"]


def test_every_card_has_a_plain_fallback_and_summary_and_uses_schema_1_5() -> None:
    message = Message(
        text="Question 1 of 14",
        blocks=(Heading("Is the child safe?"), Context((Quiet("About 6 minutes left"),))),
    )
    [activity] = message_activities(message)
    card = card_of(activity)
    assert activity["type"] == "message"
    assert activity["summary"] == "Question 1 of 14"
    assert card["version"] == "1.5"
    assert card["fallbackText"] == "Question 1 of 14"
    assert all(e.get("wrap") for e in card["body"] if e["type"] == "TextBlock")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_answer_text_is_shown_literally_not_as_markup(hostile: str) -> None:
    message = Message(
        text=hostile, blocks=(Paragraph(("Answer: ", hostile)), Fields((("Q", hostile),)))
    )
    [activity] = message_activities(message)
    blob = "\n".join(strings(activity))
    card = card_of(activity)
    assert "<at>" not in blob and "<b>" not in blob and "<script>" not in blob
    assert "{{" not in blob and "}}" not in blob
    assert "entities" not in card["msteams"]
    shown = texts(card)[0]
    for meta in ("**", "_now_", "[click]", "`code`", "~strike~"):
        assert meta not in shown
    assert "&lt;" in activity["summary"] or "<" not in hostile


def test_only_mention_spans_become_mentions_with_matching_entities() -> None:
    message = Message(
        text="Only the facilitator can close this.",
        blocks=(
            Paragraph(
                (
                    "Only the facilitator (",
                    Mention("aad-ro", "Robin Officer"),
                    ") can close this. Typed: <at>Robin Officer</at>",
                )
            ),
        ),
    )
    card = card_of(message_activities(message)[0])
    text = texts(card)[0]
    assert text.count("<at>Robin Officer</at>") == 1
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Robin Officer</at>",
            "mentioned": {"id": "aad-ro", "name": "Robin Officer"},
        }
    ]


def test_a_display_name_cannot_break_out_of_its_mention_tag() -> None:
    message = Message(text="x", blocks=(Paragraph((Mention("u1", "</at><at>Everyone"),)),))
    card = card_of(message_activities(message)[0])
    assert texts(card)[0] == "<at>/atatEveryone</at>"


def test_strong_and_quiet_spans_are_formatted_around_escaped_text() -> None:
    message = Message(text="x", blocks=(Paragraph((Strong("a*b"), " ", Quiet("c_d"))),))
    assert texts(card_of(message_activities(message)[0]))[0] == "**a\\*b** _c\\_d_"


def test_buttons_carry_only_verb_and_value_and_read_well_aloud() -> None:
    buttons = tuple(
        Button(f"Change {i}", "dlg.change", f"7:q{i}", spoken=f"Change answer {i}")
        for i in range(7)
    )
    message = Message(
        text="Review",
        blocks=(
            Buttons((Button("Submit", "dlg.submit", "7", style="primary"),)),
            Divider(),
            Buttons(buttons),
        ),
    )
    body = card_of(message_activities(message)[0])["body"]
    sets = [e for e in body if e["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [1, 5, 2]
    submit = sets[0]["actions"][0]
    assert submit == {
        "type": "Action.Submit",
        "title": "Submit",
        "data": {"verb": "dlg.submit", "value": "7"},
        "style": "positive",
    }
    assert sets[1]["separator"] is True
    assert sets[1]["actions"][0]["tooltip"] == "Change answer 0"


def test_a_huge_message_is_split_into_activities_under_the_teams_limit() -> None:
    paragraph = ("All work and no play. " * 40 + "\n\n") * 400  # about 360 KB
    message = Message(text="Record", blocks=(Heading("Record"), Paragraph((paragraph,))))
    activities = message_activities(message)
    assert len(activities) > 4
    for activity in activities:
        assert len(json.dumps(activity, ensure_ascii=False).encode()) < MAX_ACTIVITY_BYTES
    shown = "".join(
        t for a in activities for t in texts(card_of(a))[(1 if a is activities[0] else 0) :]
    )
    assert shown.replace("\n", "").replace(" ", "") == paragraph.replace("\n", "").replace(" ", "")
    assert activities[1]["summary"].endswith("(continued)")


def test_multibyte_text_also_stays_under_the_limit() -> None:
    message = Message(text="x", blocks=(Paragraph(("😀 " * 120_000,)),))
    for activity in message_activities(message):
        assert len(json.dumps(activity, ensure_ascii=False).encode()) < MAX_ACTIVITY_BYTES


FORM = Form(
    form_id="group.setup",
    title="Set up core group",
    state="19:channel@thread.tacv2",
    intro=("Use a reference, not a name.",),
    fields=(
        FormField("child_ref", "Child reference", hint="e.g. AB-1234", max_length=32),
        FormField("notes", "Notes", kind="multiline", optional=True),
        FormField("registered_on", "Registered on", kind="date", initial="2026-01-05"),
        FormField("pre_birth", "Pre-birth", kind="check", optional=True),
        FormField("facilitator", "Facilitator", kind="user"),
        FormField("members", "Members", kind="users", optional=True),
        FormField(
            "anchor",
            "Count from",
            kind="select",
            options=(Option("registration", "Registration"), Option("last_held", "Last held")),
        ),
        FormField(
            "themes",
            "Themes",
            kind="multi_select",
            optional=True,
            options=(Option("a", "A"), Option("b", "B")),
        ),
    ),
)


def test_form_card_has_labelled_inputs_of_the_right_kinds() -> None:
    card = form_card(FORM)
    inputs = {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}
    assert inputs["in_child_ref"]["type"] == "Input.Text"
    assert inputs["in_child_ref"]["maxLength"] == 32
    assert inputs["in_child_ref"]["isRequired"] is True
    assert inputs["in_notes"]["isMultiline"] is True
    assert inputs["in_notes"]["isRequired"] is False
    assert inputs["in_registered_on"] == {
        **inputs["in_registered_on"],
        "type": "Input.Date",
        "value": "2026-01-05",
    }
    assert inputs["in_pre_birth"]["type"] == "Input.Toggle"
    people = inputs["in_facilitator"]
    assert people["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert people["isMultiSelect"] is False
    assert inputs["in_members"]["isMultiSelect"] is True
    assert inputs["in_anchor"]["style"] == "compact"
    assert inputs["in_themes"]["isMultiSelect"] is True
    assert all(e["label"] for e in inputs.values())
    [submit] = card["actions"]
    assert submit["data"]["form_id"] == "group.setup"
    assert submit["data"]["state"] == "19:channel@thread.tacv2"
    hints = [e["text"] for e in card["body"] if e.get("isSubtle")]
    assert "e.g. AB-1234" in hints


def test_submitted_values_come_back_typed_by_field_kind() -> None:
    data = {
        **form_card(FORM)["actions"][0]["data"],
        "in_child_ref": " AB-1 ",
        "in_notes": "",
        "in_registered_on": "2026-01-05",
        "in_pre_birth": "true",
        "in_facilitator": "aad-ro",
        "in_members": "aad-1,aad-2",
        "in_anchor": "registration",
        "verb": "ignored",
    }
    assert form_values(data) == {
        "child_ref": "AB-1",
        "notes": None,
        "registered_on": "2026-01-05",
        "pre_birth": True,
        "facilitator": "aad-ro",
        "members": ["aad-1", "aad-2"],
        "anchor": "registration",
        "themes": [],
    }
