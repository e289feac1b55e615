"""Wording shared by every capability: UI strings with spans in them, answer labels, times.

The words themselves live in the UI string catalogue (``prompts/strings``); these helpers put
them together in the reader's language.
"""

from __future__ import annotations

import math
import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.base.messages import Mention, Quiet, Span, Strong
from prompts.schema import Question, QuestionSet
from prompts.strings import month_abbrev, t, weekday_abbrev

YES_NO_KEYS = {"yes": "dialogue.yes", "no": "dialogue.no", "not_sure": "dialogue.not_sure"}
# Kept for callers that read the English labels directly.
CHOICE_LABELS = {value: t(key) for value, key in YES_NO_KEYS.items()}


def t_spans(key: str, lang: str, **values: Any) -> tuple[Span, ...]:
    """A UI string as spans: values that are spans (``Strong``, ``Mention``) stay spans, so the
    translated sentence keeps its bold child reference or its mention wherever the words put it.
    """
    template = t(key, lang, **{k: "{" + k + "}" for k in values})
    out: list[Span] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            out.append(literal)
        if name is None:
            continue
        value = values.get(name, "{" + name + "}")
        out.append(value if isinstance(value, (Strong, Quiet, Mention)) else str(value))
    return tuple(out)


def choice_label(question: Question, value: str | None, lang: str = "en") -> str:
    if value is None:
        return ""
    if question.kind == "yes_no":
        key = YES_NO_KEYS.get(value)
        return t(key, lang) if key else value
    if question.kind == "choice":
        for c in question.choices:
            if c.value == value:
                return c.label
    return value


def minutes_left(qset: QuestionSet, remaining_questions: int) -> int:
    """The set's own estimate ("about 10 minutes") shared out over its questions, so the
    invitation, the question footer and the last reminder never disagree."""
    total = max(1, len(qset.questions))
    return max(1, math.ceil(qset.minutes * remaining_questions / total))


def local_deadline(when: datetime | None, tz: str, lang: str = "en") -> str:
    """'Thu 05 Mar 14:00' in the organisation's time zone, with day and month in ``lang``."""
    if when is None:
        return ""
    local = when.astimezone(ZoneInfo(tz))
    return f"{weekday_abbrev(local, lang)} {local:%d} {month_abbrev(local, lang)} {local:%H:%M}"
