"""What every request body must pass at the HTTP edge before anything parses it.

Size (``MAX_BODY_BYTES``, aiohttp answers 413 above it), UTF-8, and JSON nesting: Python's
``json`` recurses once per level, so a body nested 200 000 deep would raise ``RecursionError``
(a 500) instead of a clean 400. The depth is measured first by counting brackets outside
strings, which costs a couple of regular-expression passes and no recursion.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# Slack and Teams payloads are a few kilobytes; a generous cap that still bounds the work.
MAX_BODY_BYTES = 1024 * 1024
# Real payloads nest about 10 deep (a card's data inside an action inside an activity).
MAX_JSON_DEPTH = 64

# A complete JSON string (escapes included), unrolled so it never backtracks.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BadRequest(ValueError):
    """The body cannot be read; the reason names no content, answered with 400."""


def utf8(body: bytes) -> str:
    """The body as text; anything but valid UTF-8 is refused."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("body is not UTF-8") from exc


def json_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest (brackets inside strings do not count)."""
    brackets = _BRACKETS.findall(_JSON_STRING.sub('""', text))
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def load_json(text: str) -> Any:
    """``json.loads`` for text from outside: too deep or not JSON is a :class:`BadRequest`."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadRequest("JSON nested too deeply")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("body is not JSON") from exc


def is_utf8_charset(charset: str | None) -> bool:
    """No charset (UTF-8 by JSON's and Slack's definition) or UTF-8 named explicitly."""
    return charset is None or charset.lower().replace("_", "-") in ("utf-8", "utf8")
