"""Text hygiene: the characters that never belong in stored, echoed or rendered text.

The handlers scrub what people type before it is stored; the record templates scrub again as
they render, so text stored before scrubbing existed never shows a bidi override either.
"""

from __future__ import annotations

import re

# What never belongs in stored or echoed text:
# - C0 control characters other than tab and newline (PostgreSQL refuses NUL; none are useful),
#   and DEL;
# - bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they can make a
#   record read differently from what it says (a reversed name, a hidden "not");
# - lone UTF-16 surrogates (JSON's "\ud800" escapes): no database or platform can encode them.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def scrub(text: str) -> str:
    """Normalise line endings and drop unsafe characters; spacing and the ends are kept."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
