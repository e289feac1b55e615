"""One member's reflection as an explicit state machine, persisted in ``participation``.

States (``ParticipationState``) and the moves allowed from each::

    invited ──start──▶ answering ──answer/skip/next──▶ answering … ──(last)──▶ reviewing
    invited ──later──▶ deferred ──start──▶ answering
    answering ──ask_text──▶ awaiting_text ──text──▶ answering (or reviewing)
    answering ──back──▶ answering (previous question)        reviewing ──back──▶ answering
    reviewing ──change(q)──▶ answering at q, then straight back to reviewing
    reviewing ──submit──▶ done ──review/change──▶ reviewing / answering

Every move happens in one write transaction that locks the row, so a double click or a
second instance sees the state the first one left. Nothing lives in process memory: after a
restart the member carries on at ``position`` (a question id in the session's pinned
questions, so a changed YAML set never moves anyone). Submitting copies the answers into what
the group may see (``storage/submitted.py``); edits after that are drafts until submitted again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import own_participation
from handlers.base.core import Core
from handlers.base.errors import BadInput
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import Form, FormField, Intent, Message, Update, progress_key
from handlers.base.pinned import pinned_set
from handlers.base.text import clean
from handlers.base.wording import local_deadline
from handlers.reflection.progress import progress_view
from handlers.reflection.screens import (
    AnswerState,
    closed_message,
    deferred_message,
    invitation,
    question_message,
    review_message,
    thanks_message,
)
from prompts.schema import Question, QuestionSet
from prompts.strings import t
from storage.models import (
    Answer,
    CoreGroup,
    Member,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
)
from storage.submitted import mark_submitted

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


def dialogue_key(participation_id: int) -> str:
    """Where a member's question message lives, so every step edits the same message."""
    return f"dlg:{participation_id}"


def questions_for(
    qset: QuestionSet, member: Member, part: Participation | None = None
) -> tuple[Question, ...]:
    """The questions this member is asked: role questions only for their session role."""
    return qset.questions_for(part.role if part is not None else None)


async def _context(
    core: Core,
    s: AsyncSession,
    actor: Actor,
    found: tuple[Participation, Member, ReflectionSession, CoreGroup],
) -> Ctx:
    """The machine's context, with the set in the member's own language."""
    part, member, session, group = found
    lang = await language_for(s, await s.get(Organisation, group.org_id), member.user_id)
    qset = pinned_set(core, session, lang)
    return Ctx(
        core, s, part, member, session, group, qset, questions_for(qset, member, part), actor, lang
    )


async def _answers(c: Ctx) -> dict[str, Answer]:
    if c.answers is None:
        rows = await c.s.exec(
            select(Answer).where(Answer.session_id == c.session.id, Answer.member_id == c.member.id)
        )
        c.answers = {a.question_id: a for a in rows}
    return c.answers


def _question(c: Ctx, question_id: str | None) -> Question:
    for q in c.questions:
        if q.id == question_id:
            return q
    raise BadInput(key="errors.not_in_reflection")


async def _upsert(c: Ctx, q: Question, **fields: object) -> None:
    existing = (await _answers(c)).get(q.id)
    now = c.core.now()
    if existing is None:
        existing = Answer(
            session_id=c.session.id or 0,
            member_id=c.member.id or 0,
            question_id=q.id,
            answered_at=now,
            updated_at=now,
        )
        (await _answers(c))[q.id] = existing
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.updated_at = now
    c.s.add(existing)
    await c.s.flush()


def _index(c: Ctx) -> int:
    """Where the member is, as an index into their questions (the first if unknown)."""
    for i, q in enumerate(c.questions):
        if q.id == c.part.position:
            return i
    return 0


def _go(c: Ctx, index: int) -> None:
    c.part.position = c.questions[max(0, min(index, len(c.questions) - 1))].id


def _advance(c: Ctx, from_index: int) -> None:
    """After answering question ``from_index``: next question, or back to the review."""
    if c.part.return_to_review or from_index + 1 >= len(c.questions):
        c.part.state = S.REVIEWING
        c.part.return_to_review = False
        _go(c, from_index)
    else:
        c.part.state = S.ANSWERING
        _go(c, from_index + 1)
    c.part.pending_question = None
    c.part.pending_kind = None


# ---- the steps ----------------------------------------------------------------------------------


async def _start(c: Ctx, m: Move) -> None:
    answered = await _answers(c)
    first_open = next(
        (i for i, q in enumerate(c.questions) if q.id not in answered), len(c.questions)
    )
    c.part.started_at = c.part.started_at or c.core.now()
    if first_open >= len(c.questions):
        c.part.state = S.REVIEWING
    else:
        c.part.state = S.ANSWERING
        _go(c, first_open)


async def _later(c: Ctx, m: Move) -> None:
    c.part.state = S.DEFERRED


async def _answer(c: Ctx, m: Move) -> None:
    q = _question(c, m.question_id)
    if m.choice not in q.choice_values:
        raise BadInput(key="errors.answer_not_fit")
    await _upsert(c, q, choice=m.choice, skipped=False)
    _advance(c, c.questions.index(q))


async def _ask_text(c: Ctx, m: Move) -> None:
    """The member will type an answer or comment (platforms without forms use this state)."""
    q = _question(c, m.question_id)
    c.part.pending_question = q.id
    c.part.pending_kind = "answer" if q.kind == "text" else "comment"
    _go(c, c.questions.index(q))
    c.part.state = S.AWAITING_TEXT


async def _text(c: Ctx, m: Move) -> None:
    q = _question(c, m.question_id)
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
        answered = (await _answers(c)).get(q.id)
        if answered is not None and answered.choice and c.part.return_to_review:
            _advance(c, c.questions.index(q))
        else:
            c.part.state = S.ANSWERING
            _go(c, c.questions.index(q))
            c.part.pending_question = None
            c.part.pending_kind = None


async def _skip(c: Ctx, m: Move) -> None:
    q = _question(c, m.question_id)
    existing = (await _answers(c)).get(q.id)
    if existing is None or not (existing.choice or existing.comment):
        await _upsert(c, q, skipped=True)
    _advance(c, c.questions.index(q))


async def _next(c: Ctx, m: Move) -> None:
    q = _question(c, m.question_id)
    _advance(c, c.questions.index(q))


async def _back(c: Ctx, m: Move) -> None:
    if c.part.state in (S.REVIEWING, S.DONE):
        _go(c, len(c.questions) - 1)
    else:
        _go(c, _index(c) - 1)
    c.part.state = S.ANSWERING
    c.part.return_to_review = False
    c.part.pending_question = None


async def _review(c: Ctx, m: Move) -> None:
    # Also after submitting: answers stay editable until the facilitator closes.
    c.part.state = S.REVIEWING
    c.part.pending_question = None


async def _change(c: Ctx, m: Move) -> None:
    q = _question(c, m.question_id)
    c.part.state = S.ANSWERING
    _go(c, c.questions.index(q))
    c.part.return_to_review = True


async def _submit(c: Ctx, m: Move) -> None:
    c.part.state = S.DONE
    c.part.finished_at = c.part.finished_at or c.core.now()
    c.part.attended = True
    mark_submitted((await _answers(c)).values())
    for answer in (await _answers(c)).values():
        c.s.add(answer)
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
    "start": ((S.INVITED, S.DEFERRED, S.ANSWERING, S.AWAITING_TEXT), _start),
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


async def advance(core: Core, actor: Actor, participation_id: int, move: Move) -> list[Intent]:
    """Apply one move for the actor's own participation and return the message to show."""
    if move.name not in TRANSITIONS:
        raise BadInput()
    allowed, step = TRANSITIONS[move.name]
    async with core.db.write() as s:
        found = await own_participation(s, actor, participation_id, lock=True)
        part, member, session, group = found
        c = await _context(core, s, actor, found)
        if session.status != "open":
            # Replace the old card so it cannot be pressed again; nothing is saved.
            cancelled = session.status == "cancelled"
            closed = closed_message(group.child_ref, cancelled=cancelled, lang=c.lang)
            return [Update(dialogue_key(participation_id), closed)]
        if part.state not in allowed:
            # A stale button (double click, old message): show where they really are.
            return [Update(dialogue_key(participation_id), await render(c))]
        first_start = part.started_at is None
        await step(c, move)
        if member.display_name in ("", member.user_id) and actor.name:
            member.display_name = actor.name[:120]
            s.add(member)
        part.version += 1
        part.updated_at = core.now()
        s.add(part)
        await s.flush()
        message = await render(c)
        intents: list[Intent] = [Update(dialogue_key(participation_id), message)]
        if move.name == "submit" or (move.name == "start" and first_start):
            # The channel sees who started and who submitted, never the answers.
            progress = await progress_view(s, session, group, core)
            intents.append(Update(progress_key(session.id or 0), progress))
    return intents


async def render(c: Ctx) -> Message:
    """The message that shows the participation's current state."""
    pid = c.part.id or 0
    org = await c.s.get(Organisation, c.group.org_id)
    lang = c.lang
    tz = org.timezone if org else "Europe/London"
    deadline = local_deadline(c.session.closes_at, tz, lang)
    answers = await _answers(c)
    states = {k: AnswerState(a.choice, a.comment, a.skipped) for k, a in answers.items()}
    if c.part.state == S.DEFERRED:
        return deferred_message(pid, lang=lang)
    if c.part.state == S.REVIEWING:
        submitted = c.part.finished_at is not None
        return review_message(c.questions, pid, states, submitted=submitted, lang=lang)
    if c.part.state == S.DONE:
        return thanks_message(pid, deadline, lang=lang)
    if c.part.state == S.INVITED:
        return invitation(
            c.qset,
            c.group.child_ref,
            deadline,
            pid,
            c.group.facilitator_id,
            lang=lang,
            role=c.part.role,
        )
    index = _index(c)
    q = c.questions[index]
    answered = sum(1 for a in answers.values() if a.choice or a.comment)
    return question_message(c.qset, c.questions, index, pid, states.get(q.id), answered, lang=lang)


async def current_view(core: Core, actor: Actor, participation_id: int) -> Message:
    """Re-show a member where they are (App Home "continue", a reminder)."""
    async with core.db.read() as s:
        found = await own_participation(s, actor, participation_id)
        session, group = found[2], found[3]
        c = await _context(core, s, actor, found)
        if session.status != "open":
            cancelled = session.status == "cancelled"
            return closed_message(group.child_ref, cancelled=cancelled, lang=c.lang)
        return await render(c)


async def awaiting_text(core: Core, actor: Actor) -> tuple[int, str] | None:
    """The participation (and question) waiting for this person's typed words, if any."""
    async with core.db.read() as s:
        rows = await s.exec(
            select(Participation, Member, ReflectionSession)
            .join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
            .join(ReflectionSession, ReflectionSession.id == Participation.session_id)  # type: ignore[arg-type]
            .where(
                Member.user_id == actor.user_id,
                Participation.state == S.AWAITING_TEXT,
                ReflectionSession.status == "open",
            )
        )
        found = [(p.id or 0, p.pending_question or "") for p, _m, _s in rows]
    return found[0] if len(found) == 1 else None


TEXT_FORM = "dlg.text"


async def text_form(core: Core, actor: Actor, participation_id: int, question_id: str) -> Form:
    """The short form for a free-text answer or a comment, pre-filled with what was said."""
    async with core.db.read() as s:
        c = await _context(core, s, actor, await own_participation(s, actor, participation_id))
        q = _question(c, question_id)
        existing = (await _answers(c)).get(q.id)
    hint = q.hint or " ".join(q.guidance)
    is_answer = q.kind == "text"
    return Form(
        form_id=TEXT_FORM,
        title=t("dialogue.answer_title" if is_answer else "dialogue.comment_title", c.lang),
        fields=(
            FormField(
                "text",
                q.headline,
                kind="multiline",
                hint=hint[:150],
                initial=existing.comment if existing and existing.comment else None,
                optional=not is_answer,
                max_length=core.max_answer_chars,
            ),
        ),
        state=f"{participation_id}:{q.id}",
        submit=t("dialogue.save", c.lang),
    )
