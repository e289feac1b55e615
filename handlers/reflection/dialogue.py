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
restart the member carries on at ``position``.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.access import own_participation
from handlers.base.core import Core
from handlers.base.errors import BadInput
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import Form, FormField, Intent, Message, Update, progress_key
from handlers.base.wording import local_deadline
from handlers.reflection.dialogue_steps import (
    TRANSITIONS,
    Ctx,
    Move,
    S,
    answers_of,
    question_in,
)
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
    CoreGroup,
    Member,
    Organisation,
    Participation,
    ReflectionSession,
)


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
    qset = core.sets.get(session.set_id, lang)
    return Ctx(
        core, s, part, member, session, group, qset, questions_for(qset, member, part), actor, lang
    )


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
        if move.name == "submit":
            # The channel sees the tick, never the answers.
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
    answers = await answers_of(c)
    states = {k: AnswerState(a.choice, a.comment, a.skipped) for k, a in answers.items()}
    if c.part.state == S.DEFERRED:
        return deferred_message(pid, lang=lang)
    if c.part.state == S.REVIEWING:
        submitted = c.part.finished_at is not None
        return review_message(c.questions, pid, states, submitted=submitted, lang=lang)
    if c.part.state == S.DONE:
        return thanks_message(pid, deadline, lang=lang)
    if c.part.state in (S.INVITED, S.AWAY):
        return invitation(
            c.qset,
            c.group.child_ref,
            deadline,
            pid,
            c.group.facilitator_id,
            lang=lang,
            role=c.part.role,
        )
    index = min(c.part.position, len(c.questions) - 1)
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
        q = question_in(c, question_id)
        existing = (await answers_of(c)).get(q.id)
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
