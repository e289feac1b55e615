"""What the Lead Officer's digest shows, and how: only counts and rates that may be shown,
as Markdown for the CLI and as neutral blocks for chat. Built by :mod:`handlers.oversight.digest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.base.messages import Block, Context, Fields, Heading, Message, Paragraph, Strong
from prompts.render import escape_markdown

# ---- the view: only numbers that may be shown ------------------------------------------------


@dataclass(frozen=True)
class Count:
    """A count as it may be shown: ``value`` is None when it was below the minimum."""

    value: int | None
    min_count: int

    @classmethod
    def of(cls, n: int, min_count: int) -> Count:
        # A minimum of 1 turns suppression off (zero is then shown as it is).
        return cls(n if n >= min_count or min_count <= 1 else None, min_count)

    @property
    def text(self) -> str:
        return str(self.value) if self.value is not None else f"fewer than {self.min_count}"


def trend(now: Count, before: Count) -> str:
    """↑, ↓ or → when both months can be shown; nothing when either is suppressed."""
    if now.value is None or before.value is None:
        return ""
    return "↑" if now.value > before.value else "↓" if now.value < before.value else "→"


@dataclass(frozen=True)
class ThemeRow:
    label: str
    this_month: Count
    last_month: Count

    @property
    def trend(self) -> str:
        return trend(self.this_month, self.last_month)


@dataclass(frozen=True)
class Rates:
    """Percentages of Yes / No / Not sure, given only when the base is big enough."""

    base: Count
    percentages: tuple[tuple[str, int], ...]

    @property
    def text(self) -> str:
        if self.base.value is None:
            return f"not shown: {self.base.text} answers"
        return " · ".join(f"{pct}% {label}" for label, pct in self.percentages)


@dataclass(frozen=True)
class RateRow:
    headline: str
    agreed: Rates  # one per supervision: the group's agreed position
    members: Rates  # every member's own answer


@dataclass(frozen=True)
class DigestView:
    month: date
    month_text: str
    last_month_text: str
    min_count: int
    supervisions: Count
    supervisions_last_month: Count
    escalations: Count
    escalations_last_month: Count
    overdue_now: Count
    themes: tuple[ThemeRow, ...]
    rates: tuple[RateRow, ...]

    @property
    def supervisions_trend(self) -> str:
        return trend(self.supervisions, self.supervisions_last_month)

    @property
    def escalations_trend(self) -> str:
        return trend(self.escalations, self.escalations_last_month)

    @property
    def suppression_note(self) -> str:
        return (
            f"Counts below {self.min_count} are shown as \u201cfewer than {self.min_count}\u201d "
            "and rates need at least that many answers, so no child can be recognised. "
            "No child, person or core group is named."
        )


# ---- showing ---------------------------------------------------------------------------------


def digest_markdown(view: DigestView) -> str:
    """The digest as Markdown (the CLI prints this); set wording is escaped like any text."""
    e = escape_markdown
    out = [
        f"# Lead Officer digest · {e(view.month_text)}",
        "",
        f"- **Supervisions held:** {view.supervisions.text} "
        f"({e(view.last_month_text)}: {view.supervisions_last_month.text}) "
        f"{view.supervisions_trend}".rstrip(),
        f"- **Overdue supervisions now:** {view.overdue_now.text}",
        f"- **Escalations to line managers:** {view.escalations.text} "
        f"({e(view.last_month_text)}: {view.escalations_last_month.text}) "
        f"{view.escalations_trend}".rstrip(),
        "",
        "## Themes",
        "",
        f"| Theme | {e(view.month_text)} | {e(view.last_month_text)} | Trend |",
        "|---|---|---|---|",
    ]
    for row in view.themes:
        out.append(
            f"| {e(row.label)} | {row.this_month.text} | {row.last_month.text} | {row.trend} |"
        )
    out += ["", "## Yes/No answers", ""]
    if not view.rates:
        out.append("_No supervisions with Yes/No questions this month._")
    for rate in view.rates:
        out.append(f"- **{e(rate.headline)}**  ")
        out.append(f"  Agreed positions: {rate.agreed.text}  ")
        out.append(f"  Members' answers: {rate.members.text}")
    out += ["", f"_{e(view.suppression_note)}_", ""]
    return "\n".join(out)


def digest_message(view: DigestView) -> Message:
    """The digest in chat: neutral blocks, so each platform escapes it."""
    head = f"Lead Officer digest · {view.month_text}"
    blocks: list[Block] = [
        Heading(head),
        Fields(
            (
                (
                    "Supervisions held",
                    f"{view.supervisions.text} ({view.last_month_text}: "
                    f"{view.supervisions_last_month.text}) {view.supervisions_trend}".rstrip(),
                ),
                ("Overdue supervisions now", view.overdue_now.text),
                (
                    "Escalations to line managers",
                    f"{view.escalations.text} ({view.last_month_text}: "
                    f"{view.escalations_last_month.text}) {view.escalations_trend}".rstrip(),
                ),
            )
        ),
        Paragraph((Strong("Themes"), f" ({view.month_text}, then {view.last_month_text})")),
        Fields(
            tuple(
                (
                    row.label,
                    f"{row.this_month.text} · {row.last_month.text} {row.trend}".rstrip(),
                )
                for row in view.themes
            )
        ),
        Paragraph((Strong("Yes/No answers"),)),
    ]
    if not view.rates:
        blocks.append(Paragraph(("No supervisions with Yes/No questions this month.",)))
    for rate in view.rates:
        blocks.append(
            Paragraph(
                (
                    Strong(rate.headline),
                    f"\nAgreed positions: {rate.agreed.text}",
                    f"\nMembers' answers: {rate.members.text}",
                )
            )
        )
    blocks.append(Context((view.suppression_note,)))
    text = (
        f"{head}: {view.supervisions.text} supervisions held, "
        f"{view.overdue_now.text} overdue now, {view.escalations.text} escalations."
    )
    return Message(text=text, blocks=tuple(blocks))
