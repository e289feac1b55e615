"""Teams text: escaping every span for Adaptive Card markdown, and mentions as real entities.

Teams renders a small Markdown subset inside TextBlocks, turns ``<at>name</at>`` into a mention
when the card carries a matching entity, and evaluates ``{{DATE(…)}}`` / ``{{TIME(…)}}``. Text a
practitioner typed must do none of that, so every span is escaped here; only a ``Mention`` span
(a validated user id chosen by a handler) becomes an ``<at>`` tag with its entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers.base.messages import Mention, Quiet, Span, Strong

# Characters with a meaning in Teams / CommonMark inline syntax.
_MD_META = re.compile(r"([\\`*_\[\]()~|!#])")
# Line starts that would become a list, quote or heading.
_BULLET_START = re.compile(r"^(\s*)([-+])", re.MULTILINE)
_NUMBER_START = re.compile(r"^(\s*\d+)\.", re.MULTILINE)
_ZWSP = "\u200b"


def escape_html(text: str) -> str:
    """``<`` ``>`` ``&`` as entities: no tag (``<at>``, ``<a>``) survives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_md(text: str) -> str:
    """Text safe inside a TextBlock / FactSet: shown literally, never interpreted."""
    text = escape_html(text)
    text = _MD_META.sub(r"\\\1", text)
    text = _BULLET_START.sub(r"\1\\\2", text)
    text = _NUMBER_START.sub(r"\1\\.", text)
    return break_braces(text)


def break_braces(text: str) -> str:
    # Card hosts evaluate {{DATE(...)}} and {{TIME(...)}}; a zero-width space breaks the pair.
    return text.replace("{{", "{" + _ZWSP + "{").replace("}}", "}" + _ZWSP + "}")


def plain_text(text: str) -> str:
    """Fallback / summary text: no markup at all, tags neutralised."""
    return break_braces(escape_html(text))


@dataclass
class Mentions:
    """The mention entities a card needs, collected while rendering its spans."""

    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, mention: Mention) -> str:
        name = _mention_name(mention)
        tag = f"<at>{name}</at>"
        entity = {
            "type": "mention",
            "text": tag,
            "mentioned": {"id": mention.user_id, "name": mention.name or mention.user_id},
        }
        if entity not in self.entities:
            self.entities.append(entity)
        return tag


def _mention_name(mention: Mention) -> str:
    # The name sits inside <at>…</at>: it must not close the tag or carry markup.
    raw = mention.name or "someone"
    cleaned = re.sub(r"[<>&{}\[\]*_`\\]", "", raw).strip()
    return cleaned or "someone"


def render_spans(spans: tuple[Span, ...], mentions: Mentions) -> str:
    """Spans as Teams markdown, every piece of text escaped."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, str):
            out.append(escape_md(span))
        elif isinstance(span, Strong):
            out.append(f"**{escape_md(span.text)}**" if span.text.strip() else "")
        elif isinstance(span, Quiet):
            out.append(f"_{escape_md(span.text)}_" if span.text.strip() else "")
        elif isinstance(span, Mention):
            out.append(mentions.add(span))
    return "".join(out)
