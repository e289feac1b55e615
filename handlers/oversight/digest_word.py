"""The Lead Officer digest as a Word report with charts (``coregroup digest --docx FILE``).

Built only from :class:`handlers.oversight.digest.DigestView` values, so it shows exactly what
the Markdown digest may show: a count below the minimum is "fewer than N" in the tables and no
bar in the charts, and a question's rates appear only when enough answers stand behind them.
No child, person or core group is named. The page (A4, marking, page X of Y, properties) is the
Word record's (:mod:`handlers.records.word_layout`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date
from docx.shared import Cm

from handlers.base.core import Core
from handlers.oversight.digest import Count, DigestView, Rates, build_digest, previous_month
from handlers.records.charts import answer_label, answer_value, counts_chart, rates_chart
from handlers.records.word_layout import (
    PageFacts,
    add_heading,
    add_row,
    new_document,
    new_table,
    plain,
)
from prompts.strings import normalise_language, t

MONTHS = 6  # the months the "held" chart covers, the digest's month last
CHART_WIDTH = Cm(17)
SUMMARY_COLUMNS = (4638, 2000, 2000, 1000)
THEME_COLUMNS = (4638, 2000, 2000, 1000)
RATE_COLUMNS = (4238, 2700, 2700)


def _month(day: date, lang: str, pattern: str = "MMMM y") -> str:
    return format_date(day, pattern, locale="cy" if lang == "cy" else "en")


def _count(count: Count, lang: str) -> str:
    return (
        str(count.value)
        if count.value is not None
        else t("digest_word.fewer", lang, n=count.min_count)
    )


def _rates(rates: Rates, lang: str) -> str:
    if rates.base.value is None:
        return t("digest_word.not_shown", lang, count=_count(rates.base, lang))
    return " · ".join(f"{pct}% {answer_label(label, lang)}" for label, pct in rates.percentages)


async def digest_months(
    core: Core, org_id: int, month: date, *, min_count: int | None = None
) -> tuple[DigestView, ...]:
    """The digest of ``month`` and the ``MONTHS - 1`` months before it, oldest first."""
    first = date(month.year, month.month, 1)
    index = first.year * 12 + first.month - 1
    months = [date((index - n) // 12, (index - n) % 12 + 1, 1) for n in range(MONTHS - 1, -1, -1)]
    return tuple([await build_digest(core, org_id, m, min_count=min_count) for m in months])


def _picture(doc: Any, png: bytes, alt: str, title: str) -> None:
    picture = doc.add_picture(io.BytesIO(png), width=CHART_WIDTH)
    picture._inline.docPr.set("descr", plain(alt))
    picture._inline.docPr.set("title", plain(title))


def _summary(doc: Any, views: Sequence[DigestView], lang: str) -> None:
    view = views[-1]
    month, before = _month(view.month, lang), _month(previous_month(view.month), lang)
    add_heading(doc, t("digest_word.summary", lang), level=2)
    labels = (t("digest_word.measure", lang), month, before, t("digest_word.trend", lang))
    table = new_table(doc, SUMMARY_COLUMNS, labels)
    for key, now, last, trend in (
        (
            "digest_word.held",
            view.supervisions,
            view.supervisions_last_month,
            view.supervisions_trend,
        ),
        (
            "digest_word.escalations",
            view.escalations,
            view.escalations_last_month,
            view.escalations_trend,
        ),
    ):
        cells = [
            (t(key, lang), True),
            (_count(now, lang), False),
            (_count(last, lang), False),
            (trend, False),
        ]
        add_row(table, SUMMARY_COLUMNS, cells)
    add_row(
        table,
        SUMMARY_COLUMNS,
        [
            (t("digest_word.overdue", lang), True),
            (_count(view.overdue_now, lang), False),
            ("", False),
            ("", False),
        ],
    )
    title = t("digest_word.held_title", lang)
    labels_by_month = [_month(v.month, lang, "MMM y") for v in views]
    counts = [v.supervisions.value for v in views]
    png = counts_chart(
        title, labels_by_month, counts, t("digest_word.fewer", lang, n=view.min_count)
    )
    values = ", ".join(
        f"{m}: {_count(v.supervisions, lang)}" for m, v in zip(labels_by_month, views, strict=True)
    )
    alt = t(
        "digest_word.held_alt",
        lang,
        first=labels_by_month[0],
        last=labels_by_month[-1],
        values=values,
    )
    _picture(doc, png, alt, title)


def _yes_no(doc: Any, view: DigestView, lang: str) -> None:
    add_heading(doc, t("digest_word.rates", lang), level=2)
    shown = [r for r in view.rates if r.agreed.base.value]  # shown, and not nought
    if shown:
        title = t("digest_word.rates_title", lang)
        rows = [
            (
                r.headline,
                [
                    (answer_value(label) or "", answer_label(label, lang), pct)
                    for label, pct in r.agreed.percentages
                ],
            )
            for r in shown
        ]
        lines = " ".join(
            t("digest_word.rates_line", lang, question=r.headline, rates=_rates(r.agreed, lang))
            for r in shown
        )
        _picture(
            doc, rates_chart(title, rows), t("digest_word.rates_alt", lang, values=lines), title
        )
    else:
        doc.add_paragraph(t("digest_word.rates_none", lang))
    if view.rates:
        labels = tuple(
            t(k, lang)
            for k in ("digest_word.question", "digest_word.agreed", "digest_word.members")
        )
        table = new_table(doc, RATE_COLUMNS, labels)
        for r in view.rates:
            add_row(
                table,
                RATE_COLUMNS,
                [
                    (r.headline, False),
                    (_rates(r.agreed, lang), False),
                    (_rates(r.members, lang), False),
                ],
            )


def _themes(doc: Any, view: DigestView, lang: str) -> None:
    add_heading(doc, t("digest_word.themes", lang), level=2)
    month, before = _month(view.month, lang), _month(previous_month(view.month), lang)
    labels = (t("digest_word.theme", lang), month, before, t("digest_word.trend", lang))
    table = new_table(doc, THEME_COLUMNS, labels)
    for row in view.themes:
        cells = [
            (row.label, False),
            (_count(row.this_month, lang), False),
            (_count(row.last_month, lang), False),
            (row.trend, False),
        ]
        add_row(table, THEME_COLUMNS, cells)


def digest_docx(
    views: Sequence[DigestView],
    *,
    author: str,
    marking: str,
    lang: str = "en",
    timezone: str = "Europe/London",
    produced_at: datetime | None = None,
) -> bytes:
    """The digest of the last of ``views`` as Word, its charts drawn across all of them."""
    lang = normalise_language(lang)
    view = views[-1]
    month = _month(view.month, lang)
    facts = PageFacts(
        title=f"{t('digest_word.title', lang)} · {month}",
        subject=t("digest_word.subject", lang, month=month),
        author=author or t("word.bot_name", lang),
        marking=marking,
        running_head=t("digest_word.running_head", lang, month=month),
        lang=lang,
        produced=produced_at or datetime.now(UTC),
        timezone=timezone,
    )
    doc = new_document(facts)
    add_heading(doc, facts.title, level=1)
    _summary(doc, views, lang)
    _yes_no(doc, view, lang)
    _themes(doc, view, lang)
    doc.add_paragraph(t("digest_word.note", lang, n=view.min_count))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
