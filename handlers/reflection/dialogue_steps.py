"""The moves of one member's reflection (see :mod:`handlers.reflection.dialogue` for the
states): each step changes the participation and its answers inside the move's transaction;
``TRANSITIONS`` says from which states each move is allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from handlers.base.errors import BadInput
from handlers.base.events import Actor
from handlers.base.text import clean
from prompts.schema import Question, QuestionSet
from storage.models import (
    Answer,
    CoreGroup,
    Member,
    Participation,
    ParticipationState,
    ReflectionSession,
)

S = ParticipationState


@dataclass(frozen=True)
class Move:
    """One input to the machine. ``question_id``/``choice``/``text`` as the move needs."""

    name: str
    question_id: str | None = None
    choice: str | None = None
    text: str | None = None


@dataclass
class Ctx:
    core: Core
    s: AsyncSession
    part: Participation
    member: Member
    session: ReflectionSession
    group: CoreGroup
    qset: QuestionSet
    questions: tuple[Question, ...]
    actor: Actor
    lang: str = "en"
    # The member's answers, read once per move (a click used to read them twice).
    answers: dict[str, Answer] | None = None


Step = Callable[[Ctx, Move], Awaitable[None]]
ANY_ACTIVE = (S.INVITED, S.DEFERRED, S.ANSWERING, S.AWAITING_TEXT, S.REVIEWING, S.DONE)
WORKING = (S.ANSWERING, S.AWAITING_TEXT, S.REVIEWING, S.DONE)


async def answers_of(c: Ctx) -> dict[str, Answer]:
    if c.answers is None:
        rows = await c.s.exec(
            select(Answer).where(Answer.session_id == c.session.id, Answer.member_id == c.member.id)
        )
        c.answers = {a.question_id: a for a in rows}
    return c.answers


def question_in(c: Ctx, question_id: str | None) -> Question:
    for q in c.questions:
        if q.id == question_id:
            return q
    raise BadInput(key="errors.not_in_reflection")


async def _upsert(c: Ctx, q: Question, **fields: object) -> None:
    existing = (await answers_of(c)).get(q.id)
    now = c.core.now()
    if existing is None:
        existing = Answer(
            session_id=c.session.id or 0,
            member_id=c.member.id or 0,
            question_id=q.id,
            answered_at=now,
            updated_at=now,
        )
        (await answers_of(c))[q.id] = existing
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.updated_at = now
    c.s.add(existing)
    await c.s.flush()


def _advance(c: Ctx, from_index: int) -> None:
    """After answering question ``from_index``: next question, or back to the review."""
    if c.part.return_to_review or from_index + 1 >= len(c.questions):
        c.part.state = S.REVIEWING
        c.part.return_to_review = False
        c.part.position = min(from_index, len(c.questions) - 1)
    else:
        c.part.state = S.ANSWERING
        c.part.position = from_index + 1
    c.part.pending_question = None
    c.part.pending_kind = None


# ---- the steps ----------------------------------------------------------------------------------


async def _start(c: Ctx, m: Move) -> None:
    answered = await answers_of(c)
    first_open = next(
        (i for i, q in enumerate(c.questions) if q.id not in answered), len(c.questions)
    )
    c.part.started_at = c.part.started_at or c.core.now()
    if first_open >= len(c.questions):
        c.part.state = S.REVIEWING
    else:
        c.part.state = S.ANSWERING
        c.part.position = first_open


async def _later(c: Ctx, m: Move) -> None:
    c.part.state = S.DEFERRED


async def _answer(c: Ctx, m: Move) -> None:
    q = question_in(c, m.question_id)
    if m.choice not in q.choice_values:
        raise BadInput(key="errors.answer_not_fit")
    await _upsert(c, q, choice=m.choice, skipped=False)
    _advance(c, c.questions.index(q))


async def _ask_text(c: Ctx, m: Move) -> None:
    """The member will type an answer or comment (platforms without forms use this state)."""
    q = question_in(c, m.question_id)
    c.part.pending_question = q.id
    c.part.pending_kind = "answer" if q.kind == "text" else "comment"
    c.part.position = c.questions.index(q)
    c.part.state = S.AWAITING_TEXT


async def _text(c: Ctx, m: Move) -> None:
    q = question_in(c, m.question_id)
    text = clean(m.text or "")
    if len(text) > c.core.max_answer_chars:
        raise BadInput(
            key="errors.answer_too_long_exact", length=len(text), max=c.core.max_answer_chars
        )
    if q.kind == "text":
        await _upsert(c, q, comment=text or None, skipped=not text)
        _advance(c, c.questions.index(q))
    else:
        if not q.comment:
            raise BadInput(key="errors.no_comment")
        await _upsert(c, q, comment=text or None)
        # A comment does not answer the question: stay on it so the member can pick.
        answered = (await answers_of(c)).get(q.id)
        if answered is not None and answered.choice and c.part.return_to_review:
            _advance(c, c.questions.index(q))
        else:
            c.part.state = S.ANSWERING
            c.part.position = c.questions.index(q)
            c.part.pending_question = None
            c.part.pending_kind = None


async def _skip(c: Ctx, m: Move) -> None:
    q = question_in(c, m.question_id)
    existing = (await answers_of(c)).get(q.id)
    if existing is None or not (existing.choice or existing.comment):
        await _upsert(c, q, skipped=True)
    _advance(c, c.questions.index(q))


async def _next(c: Ctx, m: Move) -> None:
    q = question_in(c, m.question_id)
    _advance(c, c.questions.index(q))


async def _back(c: Ctx, m: Move) -> None:
    if c.part.state in (S.REVIEWING, S.DONE):
        c.part.position = len(c.questions) - 1
    else:
        c.part.position = max(0, c.part.position - 1)
    c.part.state = S.ANSWERING
    c.part.return_to_review = False
    c.part.pending_question = None


async def _review(c: Ctx, m: Move) -> None:
    # Also after submitting: answers stay editable until the facilitator closes.
    c.part.state = S.REVIEWING
    c.part.pending_question = None


async def _change(c: Ctx, m: Move) -> None:
    q = question_in(c, m.question_id)
    c.part.state = S.ANSWERING
    c.part.position = c.questions.index(q)
    c.part.return_to_review = True


async def _submit(c: Ctx, m: Move) -> None:
    c.part.state = S.DONE
    c.part.finished_at = c.part.finished_at or c.core.now()
    c.part.attended = True
    await audit.record(
        c.s,
        org_id=c.group.org_id,
        actor=c.actor.user_id,
        action="answers.submitted",
        subject=f"session:{c.session.id}",
        at=c.core.now(),
        participation=c.part.id,
    )


TRANSITIONS: dict[str, tuple[tuple[ParticipationState, ...], Step]] = {
    # Someone away may still choose to answer from their invitation.
    "start": ((S.INVITED, S.DEFERRED, S.AWAY, S.ANSWERING, S.AWAITING_TEXT), _start),
    "later": ((S.INVITED, S.DEFERRED), _later),
    "answer": (WORKING, _answer),
    "ask_text": (WORKING, _ask_text),
    "text": (WORKING, _text),
    "skip": ((S.ANSWERING, S.AWAITING_TEXT), _skip),
    "next": ((S.ANSWERING, S.AWAITING_TEXT), _next),
    "back": (WORKING, _back),
    "review": (WORKING, _review),
    "change": ((S.REVIEWING, S.DONE, S.ANSWERING), _change),
    "submit": ((S.REVIEWING,), _submit),
}
