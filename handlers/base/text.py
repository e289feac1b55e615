"""Cleaning what people type before it is stored or echoed back (``prompts.text`` says which
characters never belong)."""

from __future__ import annotations

from prompts.text import scrub


def clean(text: str) -> str:
    """:func:`prompts.text.scrub`, then trim the ends."""
    return scrub(text).strip()
