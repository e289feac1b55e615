"""Closing a session: the facilitator records the agreed position, actions and sharing; then
the record goes in the thread, to every involved professional, and as a Word document."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from handlers.base import audit
from handlers.base.access import (
    ensure_org,
    group_for_channel,
    members_of,
    open_session,
    require_facilitator,
    session_for,
)
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotFound
from handlers.base.events import Actor
from handlers.base.i18n import language_for, languages_for, org_language
from handlers.base.messages import (
    Block,
    Context,
    Direct,
    DirectUpload,
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
    plain,
    progress_key,
    spans_text,
)
from handlers.base.parsing import parse_date, parse_user
from handlers.base.record_view import RecordView
from handlers.base.text import clean
from handlers.base.wording import choice_label
from handlers.records.actions import previous_actions
from handlers.records.summary import record_summary
from handlers.reflection.debrief import invitations as debrief_invitations
from handlers.reflection.dialogue import dialogue_key
from handlers.reflection.feedback import feedback_summary
from handlers.reflection.progress import progress_view
from handlers.reflection.screens import closed_message
from prompts.schema import QuestionSet
from prompts.strings import t
from prompts.themes import load_themes
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    Member,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)

CLOSE_FORM = "session.close"
ACTION_ROWS = 3
NO_POSITION = "none"
LONG_TEXT = 3000


def _tally(qset: QuestionSet, qid: str, answers: list[Answer], lang: str = "en") -> str:
    q = qset.question(qid)
    counts = Counter(a.choice for a in answers if a.question_id == qid and a.choice)
    parts = [f"{counts[v]} {choice_label(q, v, lang)}" for v in q.choice_values if counts[v]]
    return " · ".join(parts) if parts else t("close.no_answers_yet", lang)


def close_form(
    qset: QuestionSet,
    session: ReflectionSession,
    answers: list[Answer],
    names: dict[int, str],
    *,
    lang: str = "en",
    people: tuple[Option, ...] = (),
    attended: tuple[str, ...] = (),
    earlier: tuple[str, ...] = (),
) -> Form:
    """The facilitator's form. ``people`` are the invited members (user id, name),
    ``attended`` those ticked as present to begin with (everyone who submitted) and
    ``earlier`` the last session's actions with their status, shown first."""
    fields: list[FormField] = []
    for number, q in enumerate(qset.questions, start=1):
        if q.audience != "group":
            continue
        said = [
            f"{names.get(a.member_id, t('close.a_member', lang))}: {a.comment}"
            for a in answers
            if a.question_id == q.id and a.comment
        ]
        hint = t("close.what_people_said", lang, said=" | ".join(said))[:1900] if said else ""
        if q.choice_values:
            options = tuple(Option(v, choice_label(q, v, lang)) for v in q.choice_values)
            tally = _tally(qset, q.id, answers, lang)
            fields.append(
                FormField(
                    f"pos_{q.id}",
                    t("close.position_label", lang, n=number, headline=q.headline, tally=tally)[
                        :1900
                    ],
                    kind="select",
                    options=(*options, Option(NO_POSITION, t("close.no_position", lang))),
                    optional=True,
                    hint=hint,
                )
            )
            fields.append(
                FormField(
                    f"notes_{q.id}",
                    t("close.notes_label", lang, n=number),
                    kind="multiline",
                    optional=True,
                    max_length=LONG_TEXT,
                )
            )
        else:
            fields.append(
                FormField(
                    f"notes_{q.id}",
                    t("close.agreed_notes_label", lang, n=number, headline=q.headline)[:1900],
                    kind="multiline",
                    optional=True,
                    hint=hint,
                    max_length=LONG_TEXT,
                )
            )
        fields.append(
            FormField(
                f"key_{q.id}",
                t("close.key_point_label", lang, n=number),
                kind="check",
                optional=True,
            )
        )
    if people:
        fields.append(
            FormField(
                "attended",
                t("close.attended", lang),
                kind="users",
                optional=True,
                options=people,
                initial=attended,
                hint=t("close.attended_hint", lang),
            )
        )
    fields.append(
        FormField(
            "family_sharing",
            t("close.family_sharing_label", lang),
            kind="multiline",
            optional=qset.kind != "supervision",
            max_length=LONG_TEXT,
            hint=t("close.family_hint", lang),
        )
    )
    for i in range(1, ACTION_ROWS + 1):
        fields.append(
            FormField(
                f"action_{i}_text",
                t("close.action_what_n", lang, n=i),
                optional=True,
                max_length=500,
            )
        )
        fields.append(
            FormField(
                f"action_{i}_owner", t("close.action_who_n", lang, n=i), kind="user", optional=True
            )
        )
        fields.append(
            FormField(
                f"action_{i}_due", t("close.action_when_n", lang, n=i), kind="date", optional=True
            )
        )
    themes = load_themes()
    fields.append(
        FormField(
            "themes",
            t("close.themes", lang),
            kind="multi_select",
            optional=True,
            options=tuple(Option(k, v) for k, v in themes.items()),
        )
    )
    fields.append(
        FormField(
            "escalation",
            t("close.escalation_label", lang),
            kind="multiline",
            optional=True,
            max_length=LONG_TEXT,
            hint=t("close.escalation_hint", lang),
        )
    )
    fields.append(
        FormField(
            "takeaways",
            t("close.takeaways", lang),
            kind="multiline",
            optional=True,
            max_length=LONG_TEXT,
        )
    )
    return Form(
        form_id=CLOSE_FORM,
        title=t("close.title", lang),
        fields=tuple(fields),
        state=str(session.id),
        submit=t("close.title", lang),
        intro=(t("close.intro", lang), *_earlier_actions(earlier, lang)),
    )


def _earlier_actions(lines: tuple[str, ...], lang: str) -> tuple[str, ...]:
    if not lines:
        return ()
    return ("\n\n" + t("actions.previous", lang), *(f"\n• {line}" for line in lines))


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
                raise NotFound(key="errors.no_open_to_close")
            session = found
        await require_facilitator(s, group, actor, "close this session")
        if session.status != SessionStatus.OPEN:
            raise Conflict(key="errors.already_closed")
        answers = list(await s.exec(select(Answer).where(Answer.session_id == session.id)))
        names = {
            m.id or 0: (m.agency or m.display_name) for m in await members_of(s, group.id or 0)
        }
        invited = list(
            await s.exec(
                select(Participation, Member)
                .join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
                .where(
                    Participation.session_id == session.id,
                    Participation.state != ParticipationState.LEFT,
                )
            )
        )
        lang = await language_for(s, org, actor.user_id)
        qset = core.sets.get(session.set_id, lang)
        earlier = tuple(await previous_actions(s, session, lang))
    people = tuple(Option(m.user_id, m.display_name) for _p, m in invited)
    came = tuple(m.user_id for p, m in invited if p.attended)
    form = close_form(
        qset, session, answers, names, lang=lang, people=people, attended=came, earlier=earlier
    )
    return [OpenForm(form)]


def _text(values: FormValues, key: str, limit: int = LONG_TEXT) -> str | None:
    raw = values.get(key)
    if not isinstance(raw, str) or not clean(raw):
        return None
    raw = clean(raw)
    if len(raw) > limit:
        raise BadInput(key="errors.note_too_long", length=len(raw), limit=limit)
    return raw.strip()


async def submit_close(core: Core, actor: Actor, state: str, values: FormValues) -> list[Intent]:
    """Save the agreed positions and actions, close the session and send the record."""
    from handlers.records.build import build_record

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
            raise Conflict(key="errors.already_closed")
        qset = core.sets.get(session.set_id)
        members = {m.user_id: m for m in await members_of(s, group.id or 0)}
        positions: list[AgreedPosition] = []
        for q in qset.questions:
            if q.audience != "group":
                continue
            raw = values.get(f"pos_{q.id}")
            position = raw if isinstance(raw, str) and raw and raw != NO_POSITION else None
            if position is not None and position not in q.choice_values:
                raise BadInput(key="errors.bad_position")
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
                    raise BadInput(key="errors.action_no_text", n=i)
                continue
            owner_id = None
            if isinstance(owner_raw, str) and owner_raw:
                user_id, _name = parse_user(owner_raw, "action owner")
                owner = members.get(user_id)
                if owner is None:
                    raise BadInput(key="errors.action_owner_not_member", n=i)
                owner_id = owner.id
            due = parse_date(due_raw, "due date") if isinstance(due_raw, str) and due_raw else None
            if due is not None and due < now.date():
                raise BadInput(key="errors.action_in_past", n=i)
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
            raise BadInput(key="errors.family_sharing_needed")
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
        # No copy to group.last_supervision_on: the schedule reads closed sessions' dates (in
        # the organisation's time zone); that field is for supervisions held outside the bot.
        for p in positions:
            s.add(p)
        for a in actions:
            s.add(a)
        s.add(session)
        await s.flush()
        parts = list(
            await s.exec(
                select(Participation, Member)
                .join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
                .where(Participation.session_id == session_id)
            )
        )
        came = _attended(values.get("attended"))
        if came is not None:  # the facilitator's own record of who was there
            for part, m in parts:
                part.attended = m.user_id in came
                s.add(part)
        parts = [(p, m) for p, m in parts if m.active]  # who left gets no copy
        langs = await languages_for(s, org, [m.user_id for _p, m in parts])
        lang = await language_for(s, org, actor.user_id)
        record_lang = org_language(org)
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
    people = [(part.id or 0, m.user_id) for part, m in parts]
    intents: list[Intent] = [Update(progress_key(session_id), progress)]
    for part_id, user_id in people:  # edits first, so the record fan-out below runs together
        intents.append(
            Update(dialogue_key(part_id), closed_message(group.child_ref, lang=langs[user_id]))
        )
    intents += record_intents(view, group.channel_id, record_lang, [u for _p, u in people])
    if session.escalation:
        for _p, user_id in people:
            intents.append(Direct(user_id, plain(t("close.escalation_dm", langs[user_id]))))
    intents += debrief_invitations(group, actor.user_id, session_id)  # private, facilitators
    done: list[Block] = [Paragraph((t("close.done", lang),))]
    # "Was this useful?" goes to the facilitator only, as counts (never in the record).
    useful = await feedback_summary(core, session_id=session_id, lang=lang)
    if useful.answers:
        done.append(Context((t("close.useful", lang, summary=useful.line(lang)),)))
    said = " ".join(spans_text(b.spans) for b in done if isinstance(b, Paragraph | Context))
    intents.append(Reply(Message(text=said, blocks=tuple(done))))
    return intents


def record_intents(
    view: RecordView, channel_id: str, lang: str, members: list[str]
) -> list[Intent]:
    """The closed record where people work: in the session's thread and in each member's DM,
    one summary message plus the full record as a Word file (never a stream of messages)."""
    from handlers.records.files import record_docx

    title = t("close.record_title", lang, child_ref=view.child_ref)
    summary = record_summary(view, title, lang)
    record = Message(text=title, blocks=(RecordBlock(view, summary=summary),))
    filename = f"core-group-record-{view.session_id}.docx"
    content = record_docx(view)
    thread = progress_key(view.session_id)
    intents: list[Intent] = [
        Post(channel_id, record, thread_key=thread),
        Upload(channel_id, filename, content, title, thread_key=thread),
    ]
    for user_id in members:
        intents.append(Direct(user_id, record))
        intents.append(
            DirectUpload(user_id, filename, content, title, ref=f"record:{view.session_id}")
        )
    return intents


def _attended(raw: str | list[str] | bool | None) -> set[str] | None:
    """The user ids ticked in the "Who came?" field; ``None`` when the form had no such field."""
    if raw is None or isinstance(raw, bool):
        return None
    tokens = raw if isinstance(raw, list) else raw.split(",")
    return {parse_user(tok, "person")[0] for tok in tokens if tok.strip()}
