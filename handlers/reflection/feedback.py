"""Attendance and evaluation: who came to each session, and whether it was useful.

Both are for the group's facilitator only and show counts, never what anyone wrote. The
"Was this useful?" answers are facilitator-only questions (``purpose: feedback``), so they never
reach the group record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.access import ensure_org, group_for_channel, require_facilitator
from handlers.base.core import Core
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import Context, Heading, Intent, Message, Paragraph, Reply
from handlers.base.pinned import pinned_set
from handlers.base.wording import choice_label
from prompts.strings import t
from storage.models import Member, Participation, ReflectionSession, SessionStatus
from storage.submitted import submitted_answers


@dataclass(frozen=True)
class FeedbackSummary:
    """How many people picked each answer to "Was this useful?", in the set's order."""

    counts: tuple[tuple[str, int], ...]
    answers: int
    sessions: int

    def line(self, lang: str) -> str:
        """'Yes, very useful: 2 · Partly useful: 1' (empty when nobody answered)."""
        return " · ".join(
            t("feedback.line", lang, label=label, count=n) for label, n in self.counts if n
        )


async def _summarise(
    core: Core, s: AsyncSession, sessions: list[ReflectionSession], lang: str
) -> FeedbackSummary:
    labels: dict[str, str] = {}  # choice value -> label, in first-seen order
    counts: Counter[str] = Counter()
    for session in sessions:
        qset = pinned_set(core, session, lang)
        questions = {q.id: q for q in qset.questions if q.purpose == "feedback"}
        if not questions:
            continue
        for q in questions.values():
            for value in q.choice_values:
                labels.setdefault(value, choice_label(q, value, lang))
        rows = await submitted_answers(
            s, session.id or 0, chosen_only=True, question_ids=list(questions)
        )
        counts.update(a.choice for a in rows if a.choice)
    return FeedbackSummary(
        counts=tuple((label, counts[value]) for value, label in labels.items()),
        answers=sum(counts.values()),
        sessions=len(sessions),
    )


async def feedback_summary(
    core: Core, group_id: int | None = None, session_id: int | None = None, lang: str = "en"
) -> FeedbackSummary:
    """The answers to the feedback questions of one session, or of every session of a group."""
    async with core.db.read() as s:
        stmt = select(ReflectionSession).where(ReflectionSession.status != SessionStatus.CANCELLED)
        if session_id is not None:
            stmt = stmt.where(ReflectionSession.id == session_id)
        elif group_id is not None:
            stmt = stmt.where(ReflectionSession.group_id == group_id)
        else:
            raise ValueError("feedback_summary needs a group or a session")
        sessions = list(await s.exec(stmt))
        return await _summarise(core, s, sessions, lang)


async def show_feedback(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    """``/reflect feedback``: the group's "Was this useful?" answers, as counts."""
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        await require_facilitator(s, group, actor, "see the feedback")
        lang = await language_for(s, org, actor.user_id)
    summary = await feedback_summary(core, group_id=group.id, lang=lang)
    title = t("feedback.title", lang, child_ref=group.child_ref)
    if not summary.answers:
        said = t("feedback.none", lang)
        return [Reply(Message(text=said, blocks=(Heading(title), Paragraph((said,)))))]
    heading = t("feedback.heading", lang, count=summary.answers)
    lines = [t("feedback.line", lang, label=lb, count=n) for lb, n in summary.counts]
    return [
        Reply(
            Message(
                text=f"{heading} {summary.line(lang)}",
                blocks=(
                    Heading(title),
                    Paragraph((heading,)),
                    Context(tuple(line + "\n" for line in lines)),
                    Context((t("feedback.private", lang),)),
                ),
            )
        )
    ]


@dataclass(frozen=True)
class AttendanceRow:
    user_id: str
    name: str
    attended: int
    sessions: int

    @property
    def percent(self) -> int:
        return round(100 * self.attended / self.sessions) if self.sessions else 0


async def attendance_rows(s: AsyncSession, group_id: int) -> tuple[list[AttendanceRow], int]:
    """Per member: closed sessions they were invited to, and how many they attended."""
    rows = list(
        await s.exec(
            select(Participation, Member)
            .join(Member, col(Member.id) == col(Participation.member_id))
            .join(ReflectionSession, col(ReflectionSession.id) == col(Participation.session_id))
            .where(
                ReflectionSession.group_id == group_id,
                ReflectionSession.status == SessionStatus.CLOSED,
            )
        )
    )
    invited: Counter[int] = Counter()
    came: Counter[int] = Counter()
    people: dict[int, Member] = {}
    sessions: set[int] = set()
    for part, member in rows:
        mid = member.id or 0
        people[mid] = member
        sessions.add(part.session_id)
        invited[mid] += 1
        came[mid] += 1 if part.attended else 0
    out = [
        AttendanceRow(m.user_id, m.display_name, came[mid], invited[mid])
        for mid, m in people.items()
    ]
    return sorted(out, key=lambda r: r.name.casefold()), len(sessions)


async def attendance(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    """``/reflect attendance``: attendance rates per member across the group's sessions."""
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        await require_facilitator(s, group, actor, "see attendance")
        lang = await language_for(s, org, actor.user_id)
        rows, sessions = await attendance_rows(s, group.id or 0)
    title = t("attendance.title", lang, child_ref=group.child_ref)
    if not rows:
        said = t("attendance.none", lang)
        return [Reply(Message(text=said, blocks=(Heading(title), Paragraph((said,)))))]
    lines = [
        t(
            "attendance.line",
            lang,
            name=r.name,
            attended=r.attended,
            sessions=r.sessions,
            percent=r.percent,
        )
        for r in rows
    ]
    places = sum(r.sessions for r in rows)
    taken = sum(r.attended for r in rows)
    overall = t(
        "attendance.overall",
        lang,
        percent=round(100 * taken / places) if places else 0,
        sessions=sessions,
    )
    return [
        Reply(
            Message(
                text=title + "\n" + "\n".join(lines) + "\n" + overall,
                blocks=(
                    Heading(title),
                    Context(tuple(line + "\n" for line in lines)),
                    Paragraph((overall,)),
                ),
            )
        )
    ]
