"""Jinja2 rendering of the record with escaping for each target markup.

Every ``{{ }}`` output goes through the target's escaper (``finalize`` for the text markups,
autoescape for HTML), so nothing a practitioner typed can format, mention or link. User text
is only ever a value in the context: no template is compiled from stored text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from prompts.text import scrub
from prompts.themes import load_themes

__all__ = [
    "TEMPLATES_DIR",
    "Target",
    "environment",
    "escape_for",
    "escape_markdown",
    "escape_slack",
    "escape_teams",
    "load_themes",
    "render",
]

Target = Literal["markdown", "slack", "teams", "html"]
TARGETS: tuple[Target, ...] = ("markdown", "slack", "teams", "html")
TEMPLATES_DIR = Path(__file__).parent / "templates"

ZWSP = "\u200b"  # zero-width space: makes a Slack format marker word-internal, so inert
WORD_JOINER = "\u2060"  # breaks "@here" so it can never be read as a broadcast

_BROADCAST = re.compile(r"(?<!\w)@(channel|here|everyone)\b", re.IGNORECASE)
_SLACK_MARKERS = re.compile(r"([*_~`])")
# CommonMark punctuation that can format anywhere in a line. Escaping only what can act keeps
# the record readable ("Nan's house." not "Nan's house\\."); links cannot form once [ ] are
# escaped, so ( ) ! need nothing.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]|~])")
# What only acts at the start of a line: headings, lists, quotes, setext underlines, "1." items.
_MARKDOWN_LINE_START = re.compile(r"^([#+\-=])|^(\d+)([.)])")
_BLANK_RUNS = re.compile(r"\n\s*\n+")


def _text(value: Any) -> str:
    if value is None:
        return ""
    # Scrubbed here too: text stored before scrubbing existed never shows a bidi override.
    return _BLANK_RUNS.sub("\n", scrub(str(value)))


def _html_entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _no_broadcasts(text: str) -> str:
    return _BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), text)


def escape_slack(value: Any) -> str:
    """Slack mrkdwn: escape & < > only (Slack's rule), then disarm mentions and formatting."""
    text = _html_entities(_text(value))
    text = _no_broadcasts(text)
    return _SLACK_MARKERS.sub(ZWSP + r"\1", text)


def _markdown_lines(value: Any, line_break: str) -> str:
    lines = [line.strip() for line in _text(value).split("\n")]
    escaped = [
        _html_entities(
            _MARKDOWN_LINE_START.sub(_escape_line_start, _MARKDOWN_INLINE.sub(r"\\\1", line))
        )
        for line in lines
        if line
    ]
    return _no_broadcasts(line_break.join(escaped))


def _escape_line_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)


def escape_markdown(value: Any) -> str:
    """CommonMark: backslash-escape what could format, entity-escape HTML, keep line breaks."""
    return _markdown_lines(value, "\\\n")


def escape_teams(value: Any) -> str:
    """Teams markdown: as Markdown, so ``<at>`` from user text is inert; ``<br>`` breaks lines."""
    return _markdown_lines(value, "<br>")


_ESCAPERS: dict[str, Callable[[Any], str]] = {
    "markdown": escape_markdown,
    "slack": escape_slack,
    "teams": escape_teams,
}


def escape_for(target: Target, value: Any) -> str:
    """One value escaped for a target (HTML uses Jinja's own escaping)."""
    if target == "html":
        from markupsafe import escape

        return str(escape(_text(value)))
    return _ESCAPERS[target](value)


@lru_cache(maxsize=len(TARGETS))
def environment(target: Target) -> Environment:
    """The Jinja environment for one target, loading templates from files only."""
    loader = FileSystemLoader(str(TEMPLATES_DIR))
    if target == "html":
        env = Environment(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    else:
        escaper = _ESCAPERS[target]
        env = Environment(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=False,  # noqa: S701  (not HTML: finalize escapes every output)
            finalize=escaper,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    return env


def render(target: Target, template: str, **context: Any) -> str:
    """Render ``<template>.<target>.j2`` with a typed context; tidy blank lines."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    text = environment(target).get_template(f"{template}.{target}.j2").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
