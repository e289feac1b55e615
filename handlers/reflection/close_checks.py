"""Before and during close: who started without submitting, and the group's view complete.

- Closing while someone has started but not submitted first asks the facilitator to confirm,
  offering to remind them (their unsubmitted answers are deleted at close, never shown).
- Every Yes/No question where the submitted answers differ needs an agreed position or
  "Not agreed" with the reason in its notes; the close form is refused kindly otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.errors import BadInput
from handlers.base.messages import Button, Buttons, Heading, Message, Paragraph
from prompts.schema import QuestionSet
from prompts.strings import t
from storage.models import Member, Participation, ParticipationState
from storage.submitted import SubmittedAnswer

CLOSE_NOW = "session.close_now"
NOT_AGREED = "not_agreed"


async def started_not_submitted(s: AsyncSession, session_id: int) -> list[Member]:
    """Members who began answering but have not submitted (who, never what)."""
    rows = await s.exec(
        select(Member)
        .join(Participation, col(Participation.member_id) == col(Member.id))
        .where(
            Participation.session_id == session_id,
            col(Participation.started_at).is_not(None),
            col(Participation.finished_at).is_(None),
            Participation.state != ParticipationState.LEFT,  # removed: their drafts are gone
        )
        .order_by(col(Member.display_name))
    )
    return list(rows)


def confirm_close_message(session_id: int, people: list[Member], lang: str) -> Message:
    """The facilitator's choice: remind those who started first, or close now."""
    names = ", ".join(m.display_name for m in people)
    said = t("close.confirm_started", lang, names=names)
    sid = str(session_id)
    return Message(
        text=said,
        blocks=(
            Heading(t("close.confirm_title", lang)),
            Paragraph((said,)),
            Buttons(
                (
                    Button(t("close.confirm_remind", lang), "session.remind", sid),
                    Button(t("close.confirm_close", lang), CLOSE_NOW, sid),
                )
            ),
        ),
    )


def split_questions(qset: QuestionSet, answers: Sequence[SubmittedAnswer]) -> set[str]:
    """Yes/No questions for the group on which the submitted answers differ."""
    chosen: dict[str, set[str]] = {}
    for a in answers:
        if a.choice and not a.skipped:
            chosen.setdefault(a.question_id, set()).add(a.choice)
    return {
        q.id
        for q in qset.questions
        if q.kind == "yes_no" and q.audience == "group" and len(chosen.get(q.id, ())) > 1
    }


def check_position(number: int, split: bool, position: str | None, notes: str | None) -> None:
    """Refuse a split view left without a position, and "Not agreed" without a reason."""
    if split and position is None:
        raise BadInput(key="errors.position_needed", n=number)
    if position == NOT_AGREED and not notes:
        raise BadInput(key="errors.not_agreed_reason_needed", n=number)
