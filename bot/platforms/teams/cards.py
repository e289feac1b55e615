"""Neutral messages and forms as Adaptive Cards (schema 1.5, the newest Teams renders).

Structure is built in code. Every text span goes through :mod:`bot.platforms.teams.markup`;
buttons carry ``{"verb": action, "value": ids}`` and nothing else. A message that would pass
Teams' size limit (about 100 KB counted as UTF-16, as Teams counts; kept under 80 KB here)
becomes several activities. A record summary is always one card: if it would need more, its
brief form (the header and a pointer to the Word file) is sent instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from bot.platforms.teams.markup import Mentions, break_braces, escape_md, plain_text, render_spans
from handlers.base.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Heading,
    Message,
    Paragraph,
    RecordBlock,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_ACTIVITY_BYTES = 80_000  # UTF-16 bytes: Teams refuses bot messages over ~100 KB
_CARD_BUDGET = MAX_ACTIVITY_BYTES - 6_000  # room for the envelope, summary and fallback
TEXT_CHUNK = 12_000  # characters per TextBlock (a character can take several bytes)
ACTIONS_PER_SET = 5
SUMMARY_CHARS = 400
FALLBACK_CHARS = 2_000
INPUT_PREFIX = "in_"  # inputs share the submit data with verb/form_id/state: keep them apart
KINDS_KEY = "_kinds"

Element = dict[str, Any]


# ---- messages -----------------------------------------------------------------------------------


def message_activities(message: Message) -> list[dict[str, Any]]:
    """One message as one or more Teams message activities, each under the size limit."""
    activities = _activities(message)
    if len(activities) > 1:
        brief = brief_message(message)
        if brief is not None:
            return _activities(brief)
    return activities


def brief_message(message: Message) -> Message | None:
    """The message with any record summary cut to its brief form; None if it has none."""
    blocks = tuple(
        RecordBlock(b.view, summary=replace(b.summary, blocks=b.summary.brief))
        if isinstance(b, RecordBlock) and b.summary is not None
        else b
        for b in message.blocks
    )
    return None if blocks == message.blocks else replace(message, blocks=blocks)


def activity_size(activity: dict[str, Any]) -> int:
    """How Teams counts a message against its limit: the JSON as UTF-16."""
    return len(json.dumps(activity).encode("utf-16-le"))


def _activities(message: Message) -> list[dict[str, Any]]:
    mentions = Mentions()
    elements: list[Element] = []
    separate_next = False
    for block in message.blocks:
        if isinstance(block, Divider):
            separate_next = True
            continue
        rendered = _block(block, mentions)
        if rendered and separate_next:
            rendered[0] = {**rendered[0], "separator": True, "spacing": "Medium"}
        separate_next = False
        elements.extend(rendered)
    if not elements:
        elements = [_text_block(escape_md(message.text))]
    cards = [_card(body, message.text, mentions) for body in _pack(elements)]
    activities = []
    for index, card in enumerate(cards):
        summary = message.text if index == 0 else f"{message.text} (continued)"
        activities.append(card_activity(card, summary))
    return activities


def card_activity(card: dict[str, Any], summary: str) -> dict[str, Any]:
    """A message activity carrying one card, with a plain summary for notifications."""
    return {
        "type": "message",
        "summary": plain_text(_clip(summary, SUMMARY_CHARS)),
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


def _card(body: list[Element], fallback: str, mentions: Mentions) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": plain_text(_clip(fallback, FALLBACK_CHARS)),
        "body": body,
        "msteams": {"width": "Full"},
    }
    flat = json.dumps(body, ensure_ascii=False)
    used = [e for e in mentions.entities if e["text"] in flat]
    if used:
        card["msteams"]["entities"] = used
    return card


def _block(block: Block, mentions: Mentions) -> list[Element]:
    if isinstance(block, Heading):
        return _text_blocks(escape_md(block.text), size="Large", weight="Bolder")
    if isinstance(block, Paragraph):
        return _text_blocks(render_spans(block.spans, mentions))
    if isinstance(block, Context):
        return _text_blocks(render_spans(block.spans, mentions), isSubtle=True, size="Small")
    if isinstance(block, Fields):
        facts = [{"title": escape_md(k), "value": escape_md(v)} for k, v in block.items]
        return [{"type": "FactSet", "facts": facts}] if facts else []
    if isinstance(block, Buttons):
        return _action_sets(block.buttons)
    if isinstance(block, RecordBlock):
        if block.summary is not None:
            return [out for inner in block.summary.blocks for out in _block(inner, mentions)]
        return [_text_block(chunk) for chunk in record_chunks(block)]
    return []


def _text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _text_blocks(text: str, **style: Any) -> list[Element]:
    if not text:
        return []
    return [_text_block(chunk, **style) for chunk in _split_text(text, TEXT_CHUNK)]


def _action_sets(buttons: tuple[Button, ...]) -> list[Element]:
    actions = [submit_action(b) for b in buttons]
    return [
        {"type": "ActionSet", "actions": actions[i : i + ACTIONS_PER_SET]}
        for i in range(0, len(actions), ACTIONS_PER_SET)
    ]


def submit_action(button: Button) -> Element:
    """A button: Action.Submit carrying only the handler's action name and its id value."""
    action: Element = {
        "type": "Action.Submit",
        "title": _plain_label(button.label),
        "data": {"verb": button.action, "value": button.value},
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    if button.spoken:
        action["tooltip"] = _plain_label(button.spoken)
    return action


def _plain_label(label: str) -> str:
    # Titles are shown as plain text; still, no tag may reach the client.
    return label.replace("<", "‹").replace(">", "›")


# ---- the record ---------------------------------------------------------------------------------


def record_chunks(block: RecordBlock) -> list[str]:
    """The record as Teams markdown, in pieces small enough for one TextBlock each."""
    try:
        from handlers.records.build import render_record
    except ImportError:  # the records module is not there yet: say so plainly
        return [escape_md("The record is ready. Ask the facilitator for a copy.")]
    # The template escapes markdown and tags; card hosts also evaluate {{DATE(…)}}, so break
    # any brace pair an answer carried in (the template itself writes none).
    text = break_braces(render_record(block.view, "teams"))
    try:
        from handlers.records.build import split_for_limit
    except ImportError:
        return _split_text(text, TEXT_CHUNK)
    return [piece for chunk in split_for_limit(text, TEXT_CHUNK) for piece in _split_text(chunk)]


def _split_text(text: str, limit: int = TEXT_CHUNK) -> list[str]:
    """Split at paragraph, then line, then word boundaries; never inside an escape pair."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, 0, limit)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
            while cut > 1 and rest[cut - 1] == "\\":  # keep "\x" escapes whole
                cut -= 1
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest:
        pieces.append(rest)
    return pieces


def _pack(elements: list[Element]) -> list[list[Element]]:
    """Group body elements into cards that each stay under the activity size budget."""
    cards: list[list[Element]] = []
    current: list[Element] = []
    size = 0
    for element in elements:
        weight = len(json.dumps(element).encode("utf-16-le")) + 2
        if current and size + weight > _CARD_BUDGET:
            cards.append(current)
            current, size = [], 0
        current.append(element)
        size += weight
    if current:
        cards.append(current)
    return cards


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- forms --------------------------------------------------------------------------------------

PEOPLE_DATASET = "graph.microsoft.com/users"


def form_card(form: Form) -> dict[str, Any]:
    """A form as a card of labelled inputs; the submit carries form_id and state (ids only)."""
    mentions = Mentions()
    body: list[Element] = [_text_block(escape_md(form.title), size="Medium", weight="Bolder")]
    if form.intro:
        body.extend(_text_blocks(render_spans(form.intro, mentions)))
    for f in form.fields:
        body.append(_input(f))
        if f.hint:
            body.append(_text_block(escape_md(f.hint), isSubtle=True, size="Small", spacing="None"))
    submit = {
        "type": "Action.Submit",
        "title": _plain_label(form.submit),
        "style": "positive",
        "data": {
            "form_id": form.form_id,
            "state": form.state,
            KINDS_KEY: {f.id: f.kind for f in form.fields},
        },
    }
    card = _card(body, form.title, mentions)
    card["actions"] = [submit]
    return card


def _input(f: FormField) -> Element:
    base: Element = {
        "id": INPUT_PREFIX + f.id,
        "label": _plain_label(f.label),
        "isRequired": not f.optional,
        "errorMessage": _plain_label(f"Please fill in: {f.label}"),
    }
    initial = f.initial
    if f.kind in ("text", "multiline"):
        element = {**base, "type": "Input.Text", "maxLength": f.max_length}
        if f.kind == "multiline":
            element["isMultiline"] = True
        if f.hint:
            element["placeholder"] = _plain_label(_clip(f.hint, 100))
        if isinstance(initial, str):
            element["value"] = initial
        return element
    if f.kind in ("select", "multi_select"):
        element = {
            **base,
            "type": "Input.ChoiceSet",
            "style": "compact",
            "choices": [{"title": _plain_label(o.label), "value": o.value} for o in f.options],
        }
        if f.kind == "multi_select":
            element["isMultiSelect"] = True
        if initial:
            element["value"] = _choice_value(initial)
        return element
    if f.kind in ("user", "users"):
        element = {
            **base,
            "type": "Input.ChoiceSet",
            "choices": [{"title": _plain_label(o.label), "value": o.value} for o in f.options],
            "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
            "isMultiSelect": f.kind == "users",
        }
        if initial:
            element["value"] = _choice_value(initial)
        return element
    if f.kind == "date":
        element = {**base, "type": "Input.Date"}
        if isinstance(initial, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", initial):
            element["value"] = initial
        return element
    # check: a toggle reads its own title aloud; the label says what it is for.
    return {
        **base,
        "type": "Input.Toggle",
        "isRequired": False,
        "title": _plain_label(f.label),
        "value": "true" if initial is True else "false",
        "valueOn": "true",
        "valueOff": "false",
    }


def _choice_value(initial: str | tuple[str, ...] | bool) -> str:
    if isinstance(initial, tuple):
        return ",".join(initial)
    return str(initial)


def form_values(data: dict[str, Any]) -> dict[str, str | list[str] | bool | None]:
    """The inputs of a submitted form card, typed back by the kinds the card declared."""
    kinds = data.get(KINDS_KEY)
    kinds = kinds if isinstance(kinds, dict) else {}
    values: dict[str, str | list[str] | bool | None] = {}
    for key, kind in kinds.items():
        raw = data.get(INPUT_PREFIX + str(key))
        values[str(key)] = _typed(raw, str(kind))
    return values


def _typed(raw: Any, kind: str) -> str | list[str] | bool | None:
    if kind == "check":
        return str(raw).lower() == "true" if raw is not None else False
    if raw is None:
        return [] if kind in ("multi_select", "users") else None
    text = raw if isinstance(raw, str) else str(raw)
    if kind in ("multi_select", "users"):
        return [part.strip() for part in text.split(",") if part.strip()]
    text = text.strip()
    return text or None
