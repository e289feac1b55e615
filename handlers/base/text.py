"""Cleaning what people type before it is stored."""

from __future__ import annotations

import re

# C0 control characters other than tab and newline (PostgreSQL refuses NUL; none are useful).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """Normalise line endings, drop control characters, trim the ends."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
