"""Pictures: a group's Yes/No answers across its supervisions, and the Lead Officer digest's
counts by month and agreed Yes/No rates by question.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state, no display,
no network) in the DejaVu font that ships with matplotlib, so a server draws the same picture
as a laptop. A chart never shows the child's reference: it may be forwarded or printed apart
from the record, so it carries only questions, dates and answers. Every chart comes with alt
text saying what it shows, for screen readers and for the Word document's image description.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from babel.dates import format_date

from prompts.strings import t

if TYPE_CHECKING:
    from handlers.base.record_view import TrajectoryPoint, TrajectoryView

FONT = "DejaVu Sans"  # bundled with matplotlib
MAX_SUPERVISIONS = 8  # columns beyond this get too narrow to read; the latest are kept
DPI = 150
WIDTH_INCHES = 6.7  # the width of an A4 page inside 2 cm margins
# (fill, text) for each answer: colour helps at a glance, the words say it without colour.
COLOURS = {
    "yes": ("#b7dfb9", "#12361a"),
    "no": ("#f4b6b3", "#4a1210"),
    "not_sure": ("#fbe3a1", "#3d2e00"),
    None: ("#e4e4e4", "#333333"),
}
YES_NO_KEYS = {"yes": "dialogue.yes", "no": "dialogue.no", "not_sure": "dialogue.not_sure"}


@dataclass(frozen=True)
class Chart:
    """A PNG picture and the words that describe it."""

    png: bytes
    alt: str


def _locale(lang: str) -> str:
    return "cy" if lang == "cy" else "en"


def short_date(day: date, lang: str) -> str:
    """ "10 Jun 2025" / "10 Meh 2025"."""
    return format_date(day, "d MMM y", locale=_locale(lang))


def answer_value(label: str | None) -> str | None:
    """The stored value ("yes") behind a trajectory point's English label ("Yes")."""
    if label is None:
        return None
    for value, key in YES_NO_KEYS.items():
        if t(key) == label:
            return value
    return None


def answer_label(label: str | None, lang: str) -> str:
    """A trajectory point's answer in ``lang``; an answer the set no longer lists stays as it is."""
    value = answer_value(label)
    if value is not None:
        return t(YES_NO_KEYS[value], lang)
    return label or "–"


def point_text(point: TrajectoryPoint, lang: str) -> str:
    """One supervision's answer as words, e.g. "No" or "Yes (most common answer)"."""
    if point.answer is None:
        return "–"
    said = answer_label(point.answer, lang)
    return said if point.agreed else t("chart.majority", lang, answer=said)


def trajectory_alt(view: TrajectoryView, lang: str) -> str:
    """What the trajectory chart shows, in words (every question's path, oldest first)."""
    lines = " ".join(
        t(
            "chart.alt_line",
            lang,
            question=row.headline,
            path=" → ".join(point_text(p, lang) for p in row.points[-MAX_SUPERVISIONS:]),
        )
        for row in view.rows
    )
    shown = view.sessions[-MAX_SUPERVISIONS:]
    return t(
        "chart.alt",
        lang,
        questions=len(view.rows),
        supervisions=len(shown),
        first=short_date(shown[0].date, lang) if shown else "",
        last=short_date(shown[-1].date, lang) if shown else "",
        lines=lines,
    )


def _wrapped(headline: str, width: int = 40, lines: int = 2) -> str:
    parts = textwrap.wrap(headline, width) or [""]
    if len(parts) > lines:
        parts = [
            *parts[: lines - 1],
            textwrap.shorten(" ".join(parts[lines - 1 :]), width, placeholder="…"),
        ]
    return "\n".join(parts)


def _cell(ax: Any, x: int, y: int, point: TrajectoryPoint, lang: str) -> None:
    from matplotlib.patches import Rectangle

    fill, ink = COLOURS.get(answer_value(point.answer), COLOURS[None])
    ax.add_patch(Rectangle((x + 0.04, y + 0.06), 0.92, 0.88, facecolor=fill, edgecolor="white"))
    if point.answer is None:  # nobody answered, or the members were evenly split
        word = t("chart.tied" if point.answered else "chart.no_answer", lang)
    else:
        word = answer_label(point.answer, lang) + ("" if point.agreed else " *")
    weight = "bold" if point.agreed else "normal"
    ax.text(
        x + 0.5,
        y + 0.38,
        word,
        ha="center",
        va="center",
        color=ink,
        fontsize=8.5,
        family=FONT,
        fontweight=weight,
    )
    if point.answer is None and not point.answered:
        return
    answered = t("chart.answered", lang, n=point.answered)
    ax.text(
        x + 0.5, y + 0.72, answered, ha="center", va="center", color=ink, fontsize=6.5, family=FONT
    )


def _figure(height: float) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    return fig, FigureCanvasAgg(fig)


def _png(canvas: Any) -> bytes:
    out = io.BytesIO()
    canvas.print_png(out, metadata={"Software": None})
    return out.getvalue()


def trajectory_chart(view: TrajectoryView, lang: str = "en") -> Chart:
    """A grid: one row per Yes/No question, one column per supervision (latest eight)."""
    sessions = view.sessions[-MAX_SUPERVISIONS:]
    rows = view.rows
    height = 0.9 + 0.42 * max(len(rows), 1)
    fig, canvas = _figure(height)
    ax = fig.add_axes((0.38, 0.9 / height * 0.55, 0.6, 1 - 0.9 / height))
    for y, row in enumerate(rows):
        for x, point in enumerate(row.points[-MAX_SUPERVISIONS:]):
            _cell(ax, x, y, point, lang)
    ax.set_xlim(0, max(len(sessions), 1))
    ax.set_ylim(max(len(rows), 1), 0)  # the first question at the top
    ax.set_xticks([x + 0.5 for x in range(len(sessions))])
    ax.set_xticklabels([short_date(s.date, lang) for s in sessions], family=FONT, fontsize=7.5)
    ax.xaxis.tick_top()
    ax.set_yticks([y + 0.5 for y in range(len(rows))])
    ax.set_yticklabels([_wrapped(r.headline) for r in rows], family=FONT, fontsize=7.5)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.text(
        0.01, 0.985, t("chart.title", lang), family=FONT, fontsize=10, fontweight="bold", va="top"
    )
    fig.text(
        0.01,
        0.01,
        textwrap.fill(t("chart.key", lang), 120),
        family=FONT,
        fontsize=6.5,
        va="bottom",
        color="#333333",
    )
    return Chart(png=_png(canvas), alt=trajectory_alt(view, lang))


# ---- the Lead Officer digest: counts by month and Yes rates by question ------------------------


def _plain_axes(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=7.5)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_family(FONT)


def counts_chart(title: str, labels: list[str], counts: list[int | None], hidden: str) -> bytes:
    """Bars of a count per month; a count too small to show is no bar, labelled ``hidden``."""
    fig, canvas = _figure(2.6)
    ax = fig.add_axes((0.08, 0.16, 0.9, 0.68))
    shown = [c or 0 for c in counts]
    ax.bar(range(len(labels)), shown, color="#4f7cac", width=0.6)
    top = max([*shown, 1])
    for x, count in enumerate(counts):
        said = str(count) if count is not None else hidden
        ax.text(
            x, (count or 0) + top * 0.03, said, ha="center", va="bottom", fontsize=7.5, family=FONT
        )
    ax.set_ylim(0, top * 1.25)
    ax.set_xticks(range(len(labels)), labels)
    _plain_axes(ax)
    fig.text(0.01, 0.97, title, family=FONT, fontsize=10, fontweight="bold", va="top")
    return _png(canvas)


def rates_chart(title: str, rows: list[tuple[str, list[tuple[str, str, int]]]]) -> bytes:
    """Stacked bars of percentages per question: rows of (headline, [(value, label, pct)])."""
    fig, canvas = _figure(1.1 + 0.42 * max(len(rows), 1))
    ax = fig.add_axes((0.38, 0.12, 0.57, 0.8 - 0.3 / (1 + len(rows))))
    for y, (_, parts) in enumerate(rows):
        left = 0
        for value, label, pct in parts:
            fill, ink = COLOURS.get(value, COLOURS[None])
            ax.barh(y, pct, left=left, color=fill, edgecolor="white", height=0.7)
            if pct >= 8:  # room for the words inside the bar
                ax.text(
                    left + pct / 2,
                    y,
                    f"{pct}% {label}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color=ink,
                    family=FONT,
                )
            left += pct
    ax.set_xlim(0, 100)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [_wrapped(headline) for headline, _ in rows])
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    _plain_axes(ax)
    fig.text(0.01, 0.985, title, family=FONT, fontsize=10, fontweight="bold", va="top")
    return _png(canvas)
