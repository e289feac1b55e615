"""The record's summary: what fits in one chat message, with the full record in the Word file.

A record with twenty members' long answers is far longer than any chat message. What people
need at a glance is the header, each question's tally and agreed position (or the group's
summary), the key points and the actions; everyone's own words are in the Word file sent
alongside. The summary is built here once, as neutral blocks, so Slack, Teams and the console
show the same thing; every adapter still enforces its own limits. Long text is cut only at a
sentence end, or, when even one sentence is too long, says that it continues in the file.
"""

from __future__ import annotations

import re

from handlers.base.messages import (
    Block,
    Context,
    Fields,
    Heading,
    Paragraph,
    RecordSummary,
    Span,
    Strong,
)
from handlers.base.record_view import QuestionView, RecordView
from prompts.strings import t

# Budgets in characters, chosen so the largest record stays well inside one Slack message
# (~12,000 characters of text, 50 blocks) and one Teams card (80 KB as UTF-16).
NOTE_CHARS = 300
ATTENDEE_CHARS = 600
ACTION_CHARS = 300
FAMILY_CHARS = 400
MAX_ACTIONS = 10
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")


def clip(text: str, limit: int, lang: str) -> str:
    """``text`` whole if it fits; else whole sentences, or words with "continued in the file"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    more = t("record.continued", lang)
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if not kept:
        cut = text[: max(limit - 1, 1)]
        space = cut.rfind(" ")
        kept = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"
    return f"{kept} {more}"


def _question(q: QuestionView, lang: str) -> Paragraph:
    spans: list[Span] = [Strong(f"{q.number}. {q.headline}")]
    facts: list[str] = []
    if q.tally_text:
        facts.append(t("record.summary_answers", lang, tally=q.tally_text))
    elif not q.answered:
        facts.append(t("record.summary_no_answers", lang))
    if q.split:
        facts.append(t("record.summary_split", lang))
    if q.agreed:
        facts.append(t("record.summary_agreed", lang, position=q.agreed))
    if q.key_point:
        facts.append(t("record.summary_key_point", lang))
    if facts:
        spans.append("\n" + " · ".join(facts))
    if q.agreed_notes:
        spans.append("\n" + clip(q.agreed_notes, NOTE_CHARS, lang))
    return Paragraph(tuple(spans))


def _header(view: RecordView, lang: str) -> Fields:
    came = ", ".join(p.label for p in view.takes_part) or t("record.summary_nobody", lang)
    return Fields(
        (
            (t("record.summary_date", lang), view.date_text),
            (t("record.summary_facilitator", lang), view.facilitator.label),
            (t("record.summary_child", lang), view.child_ref),
            (
                t("record.summary_attendees", lang, count=len(view.takes_part)),
                clip(came, ATTENDEE_CHARS, lang),
            ),
        )
    )


def _key_points(view: RecordView, lang: str) -> list[Block]:
    points = [q for q in view.questions if q.key_point]
    if not points:
        return []
    lines = "\n".join(f"• {q.number}. {q.headline}" for q in points)
    return [Paragraph((Strong(t("record.summary_key_points", lang)), "\n" + lines))]


def _actions(view: RecordView, lang: str) -> list[Block]:
    heading = Strong(t("record.summary_actions", lang))
    if not view.actions:
        return [Paragraph((heading, "\n" + t("record.summary_no_actions", lang)))]
    lines = [
        "• "
        + t(
            "record.summary_action",
            lang,
            what=clip(a.text, ACTION_CHARS, lang),
            who=a.owner or t("record.summary_no_owner", lang),
            due=a.due.isoformat() if a.due else t("record.summary_no_date", lang),
        )
        for a in view.actions[:MAX_ACTIONS]
    ]
    if len(view.actions) > MAX_ACTIONS:
        lines.append(t("record.summary_more_actions", lang, count=len(view.actions) - MAX_ACTIONS))
    return [Paragraph((heading, "\n" + "\n".join(lines)))]


def record_summary(view: RecordView, title: str, lang: str = "en") -> RecordSummary:
    """The summary of ``view`` in ``lang``; ``title`` heads it (and the file's message)."""
    in_file = Context((t("record.summary_in_file", lang),))
    blocks: list[Block] = [Heading(title), _header(view, lang)]
    blocks += [_question(q, lang) for q in view.questions]
    blocks += _key_points(view, lang)
    blocks += _actions(view, lang)
    if view.family_sharing:
        family = clip(view.family_sharing, FAMILY_CHARS, lang)
        blocks.append(Paragraph((Strong(t("record.summary_family", lang)), "\n" + family)))
    if view.escalation:
        blocks.append(Paragraph((Strong(t("record.summary_escalation", lang)),)))
    blocks.append(in_file)
    brief = (Heading(title), _header(view, lang), Context((t("record.summary_brief", lang),)))
    return RecordSummary(title=title, blocks=tuple(blocks), brief=brief)
