"""The demo group's earlier supervision, three months before, so its record has a trajectory.

Written straight into the store as a closed session (the members' Yes/No answers and the
agreed positions), as if the group had met before the demo starts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from storage.models import (
    AgreedPosition,
    Answer,
    CoreGroup,
    Member,
    MemberRole,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)

SET_ID = "appendix1"
WEEKS_BEFORE = 13
# What the group said last time: question id -> (agreed position or None, members' answers).
LAST_TIME: dict[str, tuple[str | None, list[str]]] = {
    "risks_current": ("yes", ["yes", "yes", "yes", "yes"]),
    "new_risks": ("no", ["no", "no", "not_sure", "no"]),
    "plan_working": ("no", ["no", "no", "yes", "no"]),
    "blocking_factors": (None, ["yes", "yes", "no", "yes"]),
    "family_aspirations": (None, ["yes", "yes", "no", "yes"]),
    "overly_positive": ("yes", ["yes", "no", "yes", "yes"]),
    "overly_negative": (None, ["no", "no", "no", "not_sure"]),
    "clear_outcomes": ("no", ["no", "no", "yes", "no"]),
    "working_together": ("yes", ["yes", "yes", "yes", "not_sure"]),
    "contingency_adequate": ("no", ["no", "not_sure", "no", "no"]),
    "revise_plan": ("yes", ["yes", "yes", "yes", "no"]),
}


async def seed_earlier_supervision(backend: ConsoleBackend, child_ref: str) -> None:
    """One closed supervision of the group for ``child_ref``, ``WEEKS_BEFORE`` weeks ago."""
    core = backend.runtime.core
    qset = core.sets.get(SET_ID)
    asked = {q.id for q in qset.questions}
    closed = core.now() - timedelta(weeks=WEEKS_BEFORE)
    async with core.db.write() as s:
        group = (await s.exec(select(CoreGroup).where(CoreGroup.child_ref == child_ref))).one()
        members = [
            m
            for m in await s.exec(select(Member).where(Member.group_id == group.id))
            if m.role == MemberRole.MEMBER
        ]
        session = ReflectionSession(
            group_id=group.id or 0,
            set_id=qset.id,
            set_version=qset.version,
            opened_by=group.facilitator_id,
            opened_at=closed - timedelta(days=3),
            status=SessionStatus.CLOSED,
            closed_by=group.facilitator_id,
            closed_at=closed,
            family_sharing="Talked through with Mum at the home visit.",
        )
        s.add(session)
        await s.flush()
        sid = session.id or 0
        for m in members:
            s.add(
                Participation(
                    session_id=sid,
                    member_id=m.id or 0,
                    state=ParticipationState.DONE,
                    finished_at=closed,
                    attended=True,
                )
            )
        for qid, (position, choices) in LAST_TIME.items():
            if qid not in asked:
                continue  # a question set of the organisation's own without this question
            for m, choice in zip(members, choices, strict=False):
                s.add(
                    Answer(
                        session_id=sid,
                        member_id=m.id or 0,
                        question_id=qid,
                        choice=choice,
                        answered_at=closed - timedelta(days=1),
                        updated_at=closed - timedelta(days=1),
                    )
                )
            if position is not None:
                s.add(
                    AgreedPosition(
                        session_id=sid,
                        question_id=qid,
                        position=position,
                        recorded_by=group.facilitator_id,
                        recorded_at=closed,
                    )
                )
