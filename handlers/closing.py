"""Closing a session: the facilitator records the agreed position, actions and sharing; then
the record goes in the thread, to every involved professional, and as a Word document."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import select

from handlers import audit
from handlers.access import (
    ensure_org,
    group_for_channel,
    members_of,
    open_session,
    require_facilitator,
    session_for,
)
from handlers.core import Core
from handlers.debrief import invitations as debrief_invitations
from handlers.dialogue import dialogue_key
from handlers.errors import BadInput, Conflict, NotFound
from handlers.events import Actor
from handlers.groups import parse_date, parse_user
from handlers.messages import (
    Direct,
    Form,
    FormField,
    FormValues,
    Intent,
    Message,
    OpenForm,
    Option,
    Paragraph,
    Post,
    RecordBlock,
    Reply,
    Update,
    Upload,
)
from handlers.progress import progress_key, progress_view
from handlers.text import clean
from handlers.views import choice_label, closed_message
from prompts.schema import QuestionSet
from prompts.themes import load_themes
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    Member,
    Participation,
    ReflectionSession,
    SessionStatus,
)

CLOSE_FORM = "session.close"
ACTION_ROWS = 3
NO_POSITION = "none"
LONG_TEXT = 3000


def _tally(qset: QuestionSet, qid: str, answers: list[Answer]) -> str:
    q = qset.question(qid)
    counts = Counter(a.choice for a in answers if a.question_id == qid and a.choice)
    parts = [f"{counts[v]} {choice_label(q, v)}" for v in q.choice_values if counts[v]]
    return " · ".join(parts) if parts else "no answers yet"


def close_form(
    qset: QuestionSet, session: ReflectionSession, answers: list[Answer], names: dict[int, str]
) -> Form:
    fields: list[FormField] = []
    for number, q in enumerate(qset.questions, start=1):
        if q.audience != "group":
            continue
        said = [
            f"{names.get(a.member_id, 'A member')}: {a.comment}"
            for a in answers
            if a.question_id == q.id and a.comment
        ]
        hint = ("What people said — " + " | ".join(said))[:1900] if said else ""
        if q.choice_values:
            options = tuple(Option(v, choice_label(q, v)) for v in q.choice_values)
            fields.append(
                FormField(
                    f"pos_{q.id}",
                    f"{number}. {q.headline} ({_tally(qset, q.id, answers)})"[:1900],
                    kind="select",
                    options=(*options, Option(NO_POSITION, "No agreed position")),
                    optional=True,
                    hint=hint,
                )
            )
            fields.append(
                FormField(
                    f"notes_{q.id}",
                    f"{number}. Notes",
                    kind="multiline",
                    optional=True,
                    max_length=LONG_TEXT,
                )
            )
        else:
            fields.append(
                FormField(
                    f"notes_{q.id}",
                    f"{number}. {q.headline} — agreed notes"[:1900],
                    kind="multiline",
                    optional=True,
                    hint=hint,
                    max_length=LONG_TEXT,
                )
            )
        fields.append(
            FormField(
                f"key_{q.id}", f"{number}. Key point for the case file", kind="check", optional=True
            )
        )
    fields.append(
        FormField(
            "family_sharing",
            "How will this be shared with the family?",
            kind="multiline",
            optional=qset.kind != "supervision",
            max_length=LONG_TEXT,
            hint="Agree this with the group, e.g. the social worker will talk it through at the "
            "next visit.",
        )
    )
    for i in range(1, ACTION_ROWS + 1):
        fields.append(
            FormField(f"action_{i}_text", f"Action {i}: what", optional=True, max_length=500)
        )
        fields.append(
            FormField(f"action_{i}_owner", f"Action {i}: who", kind="user", optional=True)
        )
        fields.append(
            FormField(f"action_{i}_due", f"Action {i}: by when", kind="date", optional=True)
        )
    themes = load_themes()
    fields.append(
        FormField(
            "themes",
            "Themes for the Lead Officer",
            kind="multi_select",
            optional=True,
            options=tuple(Option(k, v) for k, v in themes.items()),
        )
    )
    fields.append(
        FormField(
            "escalation",
            "Escalation to line managers, if any",
            kind="multiline",
            optional=True,
            max_length=LONG_TEXT,
            hint="Serious disagreement or resource issues.",
        )
    )
    fields.append(
        FormField("takeaways", "Takeaways", kind="multiline", optional=True, max_length=LONG_TEXT)
    )
    return Form(
        form_id=CLOSE_FORM,
        title="Close and record",
        fields=tuple(fields),
        state=str(session.id),
        submit="Close and record",
        intro=("Record what the group agreed. The record goes to every member.",),
    )


async def open_close_form(
    core: Core, actor: Actor, *, channel_id: str | None = None, session_id: int | None = None
) -> list[Intent]:
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        if session_id is not None:
            session, group = await session_for(s, org, session_id)
        else:
            group = await group_for_channel(s, org, channel_id)
            found = await open_session(s, group.id or 0)
            if found is None:
                raise NotFound("There is no open session to close. Start one with `/reflect`.")
            session = found
        await require_facilitator(s, group, actor, "close this session")
        if session.status != SessionStatus.OPEN:
            raise Conflict("This session has already closed.")
        answers = list(await s.exec(select(Answer).where(Answer.session_id == session.id)))
        names = {
            m.id or 0: (m.agency or m.display_name) for m in await members_of(s, group.id or 0)
        }
        qset = core.sets.get(session.set_id)
    return [OpenForm(close_form(qset, session, answers, names))]


def _text(values: FormValues, key: str, limit: int = LONG_TEXT) -> str | None:
    raw = values.get(key)
    if not isinstance(raw, str) or not clean(raw):
        return None
    raw = clean(raw)
    if len(raw) > limit:
        raise BadInput(
            f"One of the notes is too long ({len(raw)} characters). Please keep each "
            f"under {limit}; nothing was saved."
        )
    return raw.strip()


async def submit_close(core: Core, actor: Actor, state: str, values: FormValues) -> list[Intent]:
    """Save the agreed positions and actions, close the session and send the record."""
    from handlers.exports import record_docx
    from handlers.records import build_record

    if not state.isdigit():
        raise BadInput()
    session_id = int(state)
    themes_known = load_themes()
    now = core.now()
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        session, group = await session_for(s, org, session_id)
        await require_facilitator(s, group, actor, "close this session")
        if session.status != SessionStatus.OPEN:
            raise Conflict("This session has already closed.")
        qset = core.sets.get(session.set_id)
        members = {m.user_id: m for m in await members_of(s, group.id or 0)}
        positions: list[AgreedPosition] = []
        for q in qset.questions:
            if q.audience != "group":
                continue
            raw = values.get(f"pos_{q.id}")
            position = raw if isinstance(raw, str) and raw and raw != NO_POSITION else None
            if position is not None and position not in q.choice_values:
                raise BadInput("One agreed position isn't one of the choices. Please pick again.")
            notes = _text(values, f"notes_{q.id}")
            key_point = values.get(f"key_{q.id}") is True
            if position or notes or key_point:
                positions.append(
                    AgreedPosition(
                        session_id=session_id,
                        question_id=q.id,
                        position=position,
                        notes=notes,
                        key_point=key_point,
                        recorded_by=actor.user_id,
                        recorded_at=now,
                    )
                )
        actions: list[ActionItem] = []
        for i in range(1, ACTION_ROWS + 1):
            what = _text(values, f"action_{i}_text", 500)
            owner_raw = values.get(f"action_{i}_owner")
            due_raw = values.get(f"action_{i}_due")
            if not what:
                if owner_raw or due_raw:
                    raise BadInput(f"Action {i} has a person or date but no description.")
                continue
            owner_id = None
            if isinstance(owner_raw, str) and owner_raw:
                user_id, _name = parse_user(owner_raw, "action owner")
                owner = members.get(user_id)
                if owner is None:
                    raise BadInput(f"The person for action {i} is not in this core group.")
                owner_id = owner.id
            due = parse_date(due_raw, "due date") if isinstance(due_raw, str) and due_raw else None
            if due is not None and due < now.date():
                raise BadInput(f"Action {i} is due in the past. Please pick a later date.")
            actions.append(
                ActionItem(
                    session_id=session_id,
                    group_id=group.id or 0,
                    text=what,
                    owner_member_id=owner_id,
                    due_on=due,
                    created_at=now,
                )
            )
        family = _text(values, "family_sharing")
        if qset.kind == "supervision" and not family:
            raise BadInput("Please record how this will be shared with the family.")
        raw_themes = values.get("themes")
        themes = (
            [t for t in raw_themes if t in themes_known] if isinstance(raw_themes, list) else []
        )
        session.family_sharing = family
        session.themes = themes
        session.escalation = _text(values, "escalation")
        session.takeaways = _text(values, "takeaways")
        session.status = SessionStatus.CLOSED
        session.closed_by = actor.user_id
        session.closed_at = now
        session.record_final = True
        group.last_supervision_on = now.date() if isinstance(now.date(), date) else None
        for p in positions:
            s.add(p)
        for a in actions:
            s.add(a)
        s.add(session)
        s.add(group)
        await s.flush()
        parts = list(
            await s.exec(
                select(Participation, Member)
                .join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
                .where(Participation.session_id == session_id)
            )
        )
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="session.closed",
            subject=f"session:{session_id}",
            at=now,
            positions=len(positions),
            actions=len(actions),
            themes=themes,
            escalated=session.escalation is not None,
        )
        progress = await progress_view(s, session, group, core)
    view = await build_record(core, session_id)
    title = f"Record of core group supervision · {group.child_ref}"
    record = Message(text=title, blocks=(RecordBlock(view),))
    intents: list[Intent] = [
        Update(progress_key(session_id), progress),
        Post(group.channel_id, record, thread_key=progress_key(session_id)),
        Upload(
            group.channel_id,
            f"core-group-record-{session_id}.docx",
            record_docx(view),
            title,
            thread_key=progress_key(session_id),
        ),
    ]
    for part, m in parts:
        intents.append(Update(dialogue_key(part.id or 0), closed_message(group.child_ref)))
        intents.append(Direct(m.user_id, record))
    if session.escalation:
        said = (
            "The group flagged an escalation. Please raise it with your line manager, "
            "as agreed in the session."
        )
        for _p, m in parts:
            intents.append(Direct(m.user_id, Message(text=said, blocks=(Paragraph((said,)),))))
    intents += debrief_invitations(group, actor.user_id, session_id)  # private, facilitators
    done = "Closed. The record is in the thread and a copy has gone to each member."
    intents.append(Reply(Message(text=done, blocks=(Paragraph((done,)),))))
    return intents
