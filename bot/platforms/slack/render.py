"""Neutral messages and forms -> Slack Block Kit, inside Slack's limits.

Every span is escaped for mrkdwn here (only ``&``, ``<`` and ``>``, as Slack documents), and the
broadcast words are broken, so nothing a practitioner typed can ping a channel or hide a link.
Truncation always happens after escaping and never cuts an entity or a ``<@U…>`` token in half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from handlers.base.messages import (
    Block,
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Heading,
    Mention,
    Message,
    Paragraph,
    RecordBlock,
    Span,
    Strong,
)
from prompts.strings import t

# Slack's documented limits (research/platform-limits.md §1.3).
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ACTIONS_PER_BLOCK = 25
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_LABEL = 2000
MAX_INPUT_LENGTH = 3000
MAX_FALLBACK_TEXT = 3000  # the top-level text: notifications and screen readers, kept short
# Slack refuses a message whose block text adds up past ~13,200 characters (undocumented).
MESSAGE_TEXT_BUDGET = 12000

ACTION_SUFFIX = "~"
_SUFFIX_RE = re.compile(r"~\d+$")
_VALID_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
WORD_JOINER = "\u2060"
ELLIPSIS = "…"


class RenderError(Exception):
    """A neutral value cannot be shown on Slack at all (e.g. form state over Slack's limit)."""


# ---- escaping -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape text for mrkdwn: ``&``, ``<``, ``>`` only, and defuse @channel/@here/@everyone."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), out)


def is_valid_user_id(user_id: str) -> bool:
    return bool(_VALID_USER_ID.match(user_id))


def span(s: Span) -> str:
    if isinstance(s, str):
        return escape(s)
    if isinstance(s, Mention):
        if is_valid_user_id(s.user_id):
            return f"<@{s.user_id}>"
        return escape(s.name or s.user_id)
    inner = escape(s.text).strip()
    if not inner:
        return escape(s.text)
    # Zero-width-safe: markers only wrap non-empty, trimmed text or Slack shows them literally.
    return f"*{inner}*" if isinstance(s, Strong) else f"_{inner}_"


def spans(items: tuple[Span, ...]) -> str:
    return "".join(span(s) for s in items)


def truncate(text: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to ``limit`` characters without breaking an entity or token."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut + ELLIPSIS


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (never parsed for mentions or links by Slack)."""
    if len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit) or " "}


def strip_action_suffix(action_id: str) -> str:
    """The handler's action name, without the suffix added to keep ids unique in a block."""
    return _SUFFIX_RE.sub("", action_id)


# ---- messages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage worth of content."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def fallback_text(message: Message) -> str:
    return truncate(escape(message.text), MAX_FALLBACK_TEXT) or " "


def render_message(message: Message) -> list[SlackMessage]:
    """A neutral message as one or more Slack messages (a long record needs several).

    A record summary is always one message: if it would need more, its brief form (the header
    and a pointer to the Word file) is sent instead, so nothing is cut without saying so."""
    pages = _paginate(message.blocks)
    if len(pages) > 1:
        brief = tuple(_brief(block) for block in message.blocks)
        if brief != message.blocks:
            pages = _paginate(brief)
    text = fallback_text(message)
    return [SlackMessage(text=text, blocks=blocks) for blocks in pages]


def _brief(block: Block) -> Block:
    if isinstance(block, RecordBlock) and block.summary is not None:
        return RecordBlock(block.view, summary=replace(block.summary, blocks=block.summary.brief))
    return block


def _paginate(blocks: tuple[Block, ...]) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = [[]]
    budget = 0
    for block in blocks:
        for rendered in _blocks(block):
            size = _text_size(rendered)
            current = pages[-1]
            if current and (len(current) >= MAX_BLOCKS or budget + size > MESSAGE_TEXT_BUDGET):
                pages.append([])
                budget = 0
            pages[-1].append(rendered)
            budget += size
    return pages


def render_blocks(message: Message, limit: int) -> list[dict[str, Any]]:
    """Blocks for a single surface (App Home, modal intro), cut at ``limit`` blocks."""
    out: list[dict[str, Any]] = []
    for block in message.blocks:
        out.extend(_blocks(block))
    if len(out) <= limit:
        return out
    # Never cut silently: the last place says how much is missing and where to find it.
    left_out = len(out) - (limit - 1)
    note = escape(t("home.cut", "en", count=left_out))
    return [*out[: limit - 1], {"type": "context", "elements": [mrkdwn(note)]}]


def _text_size(block: dict[str, Any]) -> int:
    size = 0
    text = block.get("text")
    if isinstance(text, dict):
        size += len(str(text.get("text", "")))
    for item in block.get("fields", []) + block.get("elements", []):
        if isinstance(item, dict) and item.get("type") in ("mrkdwn", "plain_text"):
            size += len(str(item.get("text", "")))
    return size


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def _blocks(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Heading):
        return [{"type": "header", "text": plain_text(block.text, MAX_HEADER_TEXT)}]
    if isinstance(block, Paragraph):
        return [_section(spans(block.spans))]
    if isinstance(block, Context):
        return [{"type": "context", "elements": [mrkdwn(spans(block.spans))]}]
    if isinstance(block, Fields):
        return _fields(block)
    if isinstance(block, Buttons):
        return _buttons(block)
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, RecordBlock):
        if block.summary is not None:
            return [out for inner in block.summary.blocks for out in _blocks(inner)]
        return [_section(chunk) for chunk in record_chunks(block)]
    raise RenderError(f"unknown block {type(block).__name__}")


def _fields(block: Fields) -> list[dict[str, Any]]:
    items = [
        mrkdwn(f"*{escape(label)}*\n{escape(value)}", MAX_FIELD_TEXT)
        for label, value in block.items
    ]
    return [
        {"type": "section", "fields": items[i : i + MAX_FIELDS]}
        for i in range(0, len(items), MAX_FIELDS)
    ]


def _buttons(block: Buttons) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    used: set[str] = set()
    for button in block.buttons:
        base = button.action[: MAX_ACTION_ID - 4]
        action_id, n = base, 1
        while action_id in used:
            n += 1
            action_id = f"{base}{ACTION_SUFFIX}{n}"
        used.add(action_id)
        if len(button.value) > MAX_BUTTON_VALUE:
            # A value is an id, never text: a longer one is a bug, and cutting it would misroute.
            raise RenderError("button value over Slack's limit")
        element: dict[str, Any] = {
            "type": "button",
            "text": plain_text(button.label, MAX_BUTTON_TEXT),
            "action_id": action_id,
        }
        if button.value:
            element["value"] = button.value
        if button.style:
            element["style"] = button.style
        if button.spoken:
            element["accessibility_label"] = button.spoken[:MAX_BUTTON_TEXT]
        elements.append(element)
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS_PER_BLOCK]}
        for i in range(0, len(elements), MAX_ACTIONS_PER_BLOCK)
    ]


def record_chunks(block: RecordBlock) -> list[str]:
    """The record as Slack mrkdwn, split into section-sized pieces.

    ``handlers.records.build`` renders the record with its Slack template (which escapes every
    value) and splits it on line boundaries; it lands with the records issue.
    """
    from handlers.records import build as records

    text: str = records.render_record(block.view, "slack")
    chunks: list[str] = list(records.split_for_limit(text, MAX_SECTION_TEXT))
    return [truncate(chunk, MAX_SECTION_TEXT) for chunk in chunks if chunk.strip()]


# ---- forms ----------------------------------------------------------------------------------


def render_form(form: Form) -> dict[str, Any]:
    """A Form as a modal view: callback_id = form id, private_metadata = the opaque state."""
    if len(form.state) > MAX_PRIVATE_METADATA:
        raise RenderError("form state over Slack's limit")
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.append(_section(spans(form.intro)))
    blocks.extend(_input(f) for f in form.fields)
    return {
        "type": "modal",
        "callback_id": form.form_id[:MAX_ACTION_ID],
        "private_metadata": form.state,
        "title": plain_text(form.title, MAX_MODAL_TITLE),
        "submit": plain_text(form.submit, MAX_MODAL_TITLE),
        "close": plain_text("Cancel", MAX_MODAL_TITLE),
        "blocks": blocks[:MAX_MODAL_BLOCKS],
    }


def _option(value: str, label: str) -> dict[str, Any]:
    if len(value) > MAX_OPTION_VALUE:
        raise RenderError("option value over Slack's limit")
    return {"text": plain_text(label, MAX_OPTION_TEXT), "value": value}


def _initial_list(initial: object) -> list[str]:
    if isinstance(initial, str):
        return [initial] if initial else []
    if isinstance(initial, tuple | list):
        return [str(v) for v in initial]
    return []


def _element(f: FormField) -> dict[str, Any]:
    action_id = f.id[:MAX_ACTION_ID]
    options = [_option(o.value, o.label) for o in f.options[:MAX_OPTIONS]]
    by_value = {o["value"]: o for o in options}
    initial = _initial_list(f.initial)
    el: dict[str, Any]
    if f.kind in ("text", "multiline"):
        el = {
            "type": "plain_text_input",
            "action_id": action_id,
            "max_length": max(1, min(f.max_length, MAX_INPUT_LENGTH)),
        }
        if f.kind == "multiline":
            el["multiline"] = True
        if isinstance(f.initial, str) and f.initial:
            el["initial_value"] = f.initial[: el["max_length"]]
    elif f.kind == "select":
        el = {"type": "static_select", "action_id": action_id, "options": options}
        if initial and initial[0] in by_value:
            el["initial_option"] = by_value[initial[0]]
    elif f.kind == "multi_select":
        el = {"type": "multi_static_select", "action_id": action_id, "options": options}
        chosen = [by_value[v] for v in initial if v in by_value]
        if chosen:
            el["initial_options"] = chosen
    elif f.kind == "date":
        el = {"type": "datepicker", "action_id": action_id}
        if initial and re.fullmatch(r"\d{4}-\d{2}-\d{2}", initial[0]):
            el["initial_date"] = initial[0]
    elif f.kind == "user":
        el = {"type": "users_select", "action_id": action_id}
        if initial and is_valid_user_id(initial[0]):
            el["initial_user"] = initial[0]
    elif f.kind == "users":
        el = {"type": "multi_users_select", "action_id": action_id}
        users = [u for u in initial if is_valid_user_id(u)]
        if users:
            el["initial_users"] = users
    elif f.kind == "check":
        box = _option("yes", f.label)
        el = {"type": "checkboxes", "action_id": action_id, "options": [box]}
        if f.initial is True:
            el["initial_options"] = [box]
    else:  # pragma: no cover - FieldKind is a closed Literal
        raise RenderError(f"unknown field kind {f.kind}")
    return el


def _input(f: FormField) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": f.id[:MAX_ACTION_ID],
        "label": plain_text(f.label, MAX_LABEL),
        "element": _element(f),
        # An unticked checkbox is a valid answer, so Slack must not demand a tick.
        "optional": f.optional or f.kind == "check",
    }
    if f.hint:
        block["hint"] = plain_text(f.hint, MAX_LABEL)
    return block


def render_home(message: Message) -> dict[str, Any]:
    return {"type": "home", "blocks": render_blocks(message, MAX_HOME_BLOCKS)}
