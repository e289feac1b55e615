"""A child's trajectory: the group's answer to each Yes/No question across past supervisions.

"Is the plan working well?" No → No → Yes. The agreed position is used; where the facilitator
recorded none, the majority of members' answers is shown and marked as such. Only closed
sessions count (answers stay private until close), and only questions shown to the group.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.access import (
    co_facilitators,
    ensure_org,
    group_for_channel,
    is_facilitator,
    member_in,
)
from handlers.base.core import Core
from handlers.base.errors import NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.messages import (
    Block,
    Context,
    Heading,
    Intent,
    Message,
    Paragraph,
    Reply,
    Strong,
    Upload,
)
from handlers.base.record_view import (
    NO_ANSWER,
    NO_POSITION,
    TrajectoryPoint,
    TrajectoryRow,
    TrajectorySession,
    TrajectoryView,
)
from handlers.base.wording import CHOICE_LABELS
from handlers.records.charts import trajectory_chart
from prompts.schema import Question
from prompts.strings import t
from storage.models import (
    AgreedPosition,
    Answer,
    CoreGroup,
    Organisation,
    ReflectionSession,
    SessionStatus,
)


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def _short_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _majority(choices: list[str]) -> str | None:
    """The single most common choice; None on a tie or when nobody chose."""
    ranked = Counter(choices).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


async def load_trajectory(
    s: AsyncSession,
    core: Core,
    group: CoreGroup,
    org: Organisation | None,
    *,
    until: ReflectionSession | None = None,
) -> TrajectoryView:
    """The trajectory inside an open read session: three queries, whatever the group's size.

    ``until`` limits it to supervisions closed no later than that one (a record shows the
    trajectory as it stood when it was written).
    """
    stmt = select(ReflectionSession).where(
        ReflectionSession.group_id == group.id,
        ReflectionSession.status == SessionStatus.CLOSED,
        col(ReflectionSession.closed_at).is_not(None),
    )
    if until is not None and until.closed_at is not None:
        stmt = stmt.where(col(ReflectionSession.closed_at) <= until.closed_at)
    sessions = sorted(await s.exec(stmt), key=lambda x: (x.closed_at or x.opened_at, x.id or 0))
    ids = [x.id for x in sessions if x.id is not None]
    positions: list[AgreedPosition] = []
    answers: list[Answer] = []
    if ids:
        positions = list(
            await s.exec(select(AgreedPosition).where(col(AgreedPosition.session_id).in_(ids)))
        )
        answers = list(
            await s.exec(
                select(Answer).where(
                    col(Answer.session_id).in_(ids),
                    col(Answer.choice).is_not(None),
                    Answer.skipped == False,  # noqa: E712
                )
            )
        )
    tz = _tz(org.timezone if org else group.timezone)
    language = org.language if org else "en"
    return _compose(core, group, sessions, positions, answers, tz, language)


def _yes_no_questions(core: Core, session: ReflectionSession, language: str) -> list[Question]:
    try:
        qset = core.sets.get(session.set_id, language)
    except KeyError:
        return []  # a set no longer installed: its questions cannot be named
    return [q for q in qset.questions if q.kind == "yes_no" and q.audience == "group"]


def _compose(
    core: Core,
    group: CoreGroup,
    sessions: list[ReflectionSession],
    positions: list[AgreedPosition],
    answers: list[Answer],
    tz: ZoneInfo,
    language: str,
) -> TrajectoryView:
    agreed = {(p.session_id, p.question_id): p.position for p in positions if p.position}
    chosen: dict[tuple[int, str], list[str]] = {}
    for a in answers:
        if a.choice:
            chosen.setdefault((a.session_id, a.question_id), []).append(a.choice)

    asked: list[set[str]] = []
    headlines: dict[str, str] = {}
    kept: list[ReflectionSession] = []
    for session in sessions:
        questions = _yes_no_questions(core, session, language)
        if not questions:
            continue  # a format without Yes/No questions has no place on the line
        kept.append(session)
        asked.append({q.id for q in questions})
        for q in questions:
            headlines.setdefault(q.id, q.headline)
    # Rows in the order of the latest session's set, then any older questions.
    order: list[str] = []
    for session in reversed(kept):
        for q in _yes_no_questions(core, session, language):
            if q.id not in order:
                order.append(q.id)

    rows = []
    for qid in order:
        points = []
        for session, ids in zip(kept, asked, strict=True):
            sid = session.id or 0
            position = agreed.get((sid, qid))
            given = chosen.get((sid, qid), []) if qid in ids else []
            if position is not None:
                points.append(
                    TrajectoryPoint(CHOICE_LABELS.get(position, position), True, len(given))
                )
                continue
            majority = _majority(given)
            label = CHOICE_LABELS.get(majority, majority) if majority else None
            points.append(TrajectoryPoint(label, False, len(given)))
        rows.append(TrajectoryRow(qid, headlines[qid], tuple(points)))

    dated = []
    for session in kept:
        day = (session.closed_at or session.opened_at).astimezone(tz).date()
        dated.append(TrajectorySession(session.id or 0, day, _short_date(day)))
    return TrajectoryView(
        group_id=group.id or 0, child_ref=group.child_ref, sessions=tuple(dated), rows=tuple(rows)
    )


async def trajectory(core: Core, group_id: int) -> TrajectoryView:
    """One group's trajectory across every closed supervision."""
    async with core.db.read() as s:
        group = await s.get(CoreGroup, group_id)
        if group is None:
            raise NotFound("I couldn't find that core group.")
        org = await s.get(Organisation, group.org_id)
        return await load_trajectory(s, core, group, org)


def trajectory_message(view: TrajectoryView) -> Message:
    title = f"Trajectory · {view.child_ref}"
    if not view.sessions:
        said = "No supervision has been recorded for this core group yet."
        return Message(text=said, blocks=(Heading(title), Paragraph((said,))))
    count = len(view.sessions)
    intro = (
        f"The group's answer at each of {count} supervisions, oldest first: "
        if count > 1
        else "One supervision so far: "
    ) + view.dates_text
    blocks: list[Block] = [Heading(title), Context((intro,))]
    lines = [title, intro]
    for row in view.rows:
        blocks.append(Paragraph((Strong(row.headline), "\n", row.path)))
        lines.append(f"{row.headline}: {row.path}")
    blocks.append(
        Context(
            (
                f"Where no position was agreed, the members' majority is shown, marked "
                f"{NO_POSITION}; {NO_ANSWER} means no answer.",
            )
        )
    )
    return Message(text="\n".join(lines), blocks=tuple(blocks))


async def show_trajectory(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    """``/reflect trajectory``: for the group's members and facilitators only, as a Reply.

    With two or more supervisions the chart is also posted in the group's channel as a file.
    """
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        allowed = is_facilitator(group, actor.user_id, await co_facilitators(s, group.id or 0))
        if not allowed and await member_in(s, group.id or 0, actor.user_id) is None:
            raise NotAllowed("Only members of this core group can see its trajectory.")
        view = await load_trajectory(s, core, group, org)
    intents: list[Intent] = [Reply(trajectory_message(view))]
    if view.several:  # a picture of the same answers, posted in the group's channel
        lang = org.language if org else "en"
        chart = await asyncio.to_thread(trajectory_chart, view, lang)
        intents.append(
            Upload(
                group.channel_id,
                f"core-group-trajectory-{group.id}.png",
                chart.png,
                t("chart.file_title", lang),
            )
        )
    return intents
