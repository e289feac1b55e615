"""The record as a Word document laid out like the Appendix 1 form, in the record's language.

The page (A4, header and footer, styles, properties) and the table building blocks are in
:mod:`handlers.records.word_layout`; this module fills it with the record's sections. Every
label comes from ``prompts/strings``; everything a practitioner typed is added as plain runs.
When the group has had more than one supervision, the trajectory is drawn as a chart
(:mod:`handlers.records.charts`) with its description as the image's alt text.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from docx.shared import Cm

from handlers.base.record_view import ActionView, QuestionView, RecordView
from handlers.records.charts import answer_label, point_text, short_date, trajectory_chart
from handlers.records.word_layout import (
    ACTION_COLUMNS,
    DETAILS_COLUMNS,
    QUESTION_COLUMNS,
    TRAJECTORY_COLUMNS,
    PageFacts,
    add_heading,
    add_paragraph,
    add_row,
    add_run,
    add_wide_row,
    long_date,
    new_document,
    new_table,
    plain,
)
from prompts.strings import normalise_language, t

CHART_WIDTH = Cm(17)


# Why someone is listed without answers (RecordView's English words) -> the reader's label.
NOT_TAKEN_PART = "word.did_not_take_part"
ABSENCE_KEYS = {"away": "word.away", "left the group": "word.left_group"}


def _said(q: QuestionView, label: str | None, lang: str) -> str:
    """A choice as the reader's language names it (Yes/No/Not sure are translated)."""
    if label is None:
        return ""
    return answer_label(label, lang) if q.kind == "yes_no" else label


def _tally(q: QuestionView, lang: str) -> str:
    counts = " · ".join(
        f"{count} {_said(q, label, lang)}" for label, count in q.tally.items() if count
    )
    if q.split:
        return t("word.split", lang, tally=counts)
    return counts or ("" if q.answers else t("word.no_answers", lang))


def _agreed_and_notes(q: QuestionView, lang: str) -> tuple[str, str]:
    """The agreed position and the notes; a key point is marked on whichever there is."""
    agreed, notes = _said(q, q.agreed, lang), q.agreed_notes or ""
    if q.key_point and agreed:
        agreed = t("word.key_point", lang, text=agreed)
    elif q.key_point and notes:
        notes = t("word.key_point", lang, text=notes)
    return agreed, notes


def _headline(q: QuestionView, lang: str) -> str:
    if not q.section:
        return q.headline
    return f"{t(f'word.section_{q.purpose}', lang)}: {q.headline}"


def _details(doc: Any, view: RecordView, lang: str) -> None:
    add_heading(doc, plain(t("word.title", lang)), level=1)
    if view.draft:
        doc.add_paragraph(t("word.draft", lang))
    if view.key_points_only:
        doc.add_paragraph(t("word.case_file", lang))
    attendees = [
        p.label
        if p.attended
        else t(ABSENCE_KEYS.get(p.absence, NOT_TAKEN_PART), lang, name=p.label)
        for p in view.attendees
    ]
    details = new_table(doc, DETAILS_COLUMNS)
    for label, value in (
        ("word.date", long_date(view.date, lang)),
        ("word.facilitator", view.facilitator.label),
        ("word.attendees", "\n".join(attendees) or t("word.nobody_yet", lang)),
        ("word.child", view.child_ref),
    ):
        add_row(details, DETAILS_COLUMNS, [(t(label, lang), True), (value, False)])
    add_heading(doc, t("word.life", lang), level=2)
    if view.opening_prompt:
        doc.add_paragraph(plain(view.opening_prompt))


def _questions(doc: Any, view: RecordView, lang: str) -> None:
    add_heading(doc, t("word.questions", lang), level=2)
    labels = ("word.number", "word.question", "word.answers", "word.agreed", "word.notes")
    table = new_table(doc, QUESTION_COLUMNS, tuple(t(k, lang) for k in labels))
    skipped = t("word.skipped", lang)
    for q in view.questions:
        agreed, notes = _agreed_and_notes(q, lang)
        cells = [
            (q.number, False),
            (_headline(q, lang), True),
            (_tally(q, lang), q.split),
            (agreed, False),
            (notes, False),
        ]
        add_row(table, QUESTION_COLUMNS, cells, keep_next=bool(q.answers))
        # Each member's answer beneath the question, one row each across the full width, so
        # a long answer moves to the next page whole instead of being cut between pages.
        for a in q.answers:
            paragraph = add_paragraph(add_wide_row(table, QUESTION_COLUMNS))
            add_run(paragraph, plain(a.label) + ": ", bold=True)
            said = (_said(q, a.choice, lang), a.comment)
            add_run(paragraph, skipped if a.skipped else " · ".join(x for x in said if x))


def _trajectory(doc: Any, view: RecordView, lang: str, charts: bool) -> None:
    path = view.trajectory
    if path is None or not path.several:
        return
    add_heading(doc, t("word.trajectory", lang), level=2)
    dates = " → ".join(short_date(s.date, lang) for s in path.sessions)
    doc.add_paragraph(plain(t("word.trajectory_intro", lang, dates=dates)))
    if charts:
        chart = trajectory_chart(path, lang)
        picture = doc.add_picture(io.BytesIO(chart.png), width=CHART_WIDTH)
        picture._inline.docPr.set("descr", plain(chart.alt))
        picture._inline.docPr.set("title", plain(t("chart.title", lang)))
    labels = (t("word.question", lang), t("word.over_time", lang))
    lines = new_table(doc, TRAJECTORY_COLUMNS, labels)
    for line in path.rows:
        over_time = " → ".join(point_text(p, lang) for p in line.points)
        add_row(lines, TRAJECTORY_COLUMNS, [(line.headline, False), (over_time, False)])


def _action_cells(item: ActionView, lang: str) -> list[tuple[object, bool]]:
    owner = item.owner_label if item.owner else t("word.no_owner", lang)
    due = long_date(item.due, lang) if item.due else t("word.no_date", lang)
    status_key = f"word.status_{item.status}"
    status = t(status_key, lang) if item.status in ("open", "done", "dropped") else item.status
    return [(item.text, False), (owner, False), (due, False), (status, False)]


def _actions_and_notes(doc: Any, view: RecordView, lang: str) -> None:
    add_heading(doc, t("word.family", lang), level=2)
    doc.add_paragraph(plain(view.family_sharing or t("word.family_none", lang)))
    add_heading(doc, t("word.actions", lang), level=2)
    if view.actions:
        labels = tuple(t(k, lang) for k in ("word.action", "word.owner", "word.due", "word.status"))
        actions = new_table(doc, ACTION_COLUMNS, labels)
        for item in view.actions:
            add_row(actions, ACTION_COLUMNS, _action_cells(item, lang))
    else:
        doc.add_paragraph(t("word.no_actions", lang))
    if view.key_points_only:
        return
    themes = ", ".join(view.themes)
    for heading, text, none in (
        ("word.takeaways", view.takeaways, "word.takeaways_none"),
        ("word.themes", themes, "word.themes_none"),
        ("word.escalation", view.escalation, "word.escalation_none"),
    ):
        add_heading(doc, t(heading, lang), level=2)
        doc.add_paragraph(plain(text or t(none, lang)))


def record_docx(
    view: RecordView, *, charts: bool = True, produced_at: datetime | None = None
) -> bytes:
    """The record as a .docx file. ``charts=False`` leaves the trajectory chart out."""
    lang = normalise_language(view.language)
    title = t("word.title", lang)
    facts = PageFacts(
        title=title,
        subject=t("word.subject", lang, child_ref=view.child_ref, date=long_date(view.date, lang)),
        author=view.organisation or t("word.bot_name", lang),
        marking=view.protective_marking,
        running_head=f"{view.child_ref} · {title}",
        lang=lang,
        produced=produced_at or datetime.now(UTC),
        timezone=view.timezone,
    )
    doc = new_document(facts)
    _details(doc, view, lang)
    _questions(doc, view, lang)
    _trajectory(doc, view, lang, charts)
    _actions_and_notes(doc, view, lang)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
