"""Submitted answers: the only answers that ever leave the member who wrote them.

A member's ``Answer`` row holds their draft (``choice``/``comment``/``skipped``). Pressing
Submit copies the draft into the ``submitted_*`` columns; changing an answer afterwards edits
the draft only, until the member submits again. The close form, the record, exports, the
digest, the trajectory and attendance all read answers through :func:`submitted_answers`.
At close, :func:`discard_drafts` deletes what was never submitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer


@dataclass(frozen=True)
class SubmittedAnswer:
    """One submitted answer, as it may be shown to the group."""

    session_id: int
    member_id: int
    question_id: str
    choice: str | None
    comment: str | None
    skipped: bool
    answered_at: datetime


async def submitted_answers(
    s: AsyncSession,
    session_ids: int | Iterable[int],
    *,
    chosen_only: bool = False,
    question_ids: Iterable[str] | None = None,
) -> list[SubmittedAnswer]:
    """The submitted answers of one or more sessions (``chosen_only``: with a choice, not
    skipped), in the order they were first given."""
    ids = [session_ids] if isinstance(session_ids, int) else list(session_ids)
    if not ids:
        return []
    stmt = select(Answer).where(col(Answer.session_id).in_(ids), Answer.submitted == True)  # noqa: E712
    if chosen_only:
        stmt = stmt.where(
            col(Answer.submitted_choice).is_not(None),
            Answer.submitted_skipped == False,  # noqa: E712
        )
    if question_ids is not None:
        stmt = stmt.where(col(Answer.question_id).in_(list(question_ids)))
    rows = await s.exec(stmt.order_by(col(Answer.answered_at), col(Answer.id)))
    return [
        SubmittedAnswer(
            session_id=a.session_id,
            member_id=a.member_id,
            question_id=a.question_id,
            choice=a.submitted_choice,
            comment=a.submitted_comment,
            skipped=a.submitted_skipped,
            answered_at=a.answered_at,
        )
        for a in rows
    ]


def mark_submitted(answers: Iterable[Answer]) -> None:
    """The member pressed Submit: their drafts become what the group may see."""
    for a in answers:
        a.submitted = True
        a.submitted_choice = a.choice
        a.submitted_comment = a.comment
        a.submitted_skipped = a.skipped


async def discard_drafts(s: AsyncSession, session_id: int) -> int:
    """At close: delete answers never submitted and undo edits made since submitting, so
    nothing unsubmitted outlives the session. Returns how many answers were deleted."""
    gone = await s.exec(
        delete(Answer).where(
            col(Answer.session_id) == session_id,
            col(Answer.submitted).is_(False),
        )
    )
    kept = await s.exec(select(Answer).where(Answer.session_id == session_id))
    for a in kept:
        if (a.choice, a.comment, a.skipped) != (
            a.submitted_choice,
            a.submitted_comment,
            a.submitted_skipped,
        ):
            a.choice, a.comment, a.skipped = (
                a.submitted_choice,
                a.submitted_comment,
                a.submitted_skipped,
            )
            s.add(a)
    await s.flush()
    return int(gone.rowcount or 0)
