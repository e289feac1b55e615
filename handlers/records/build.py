"""The compiled record of a session, laid out like Appendix 1, as a typed view for templates.

:func:`build_record` reads everything in a handful of queries (no query per member or per
question) and returns a frozen :class:`RecordView`; :func:`render_record` turns it into Slack
mrkdwn, Teams markdown, Markdown or HTML through the templates in ``prompts/templates``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import select

from handlers.base.core import Core
from handlers.base.errors import CoreGroupError, NotFound
from handlers.base.pinned import pinned_set
from handlers.base.record_view import (
    ActionView,
    MemberAnswer,
    Person,
    QuestionView,
    RecordView,
    Tally,
    TrajectoryView,
)
from handlers.base.wording import choice_label
from handlers.records.trajectory import load_trajectory
from prompts.render import Target, render
from prompts.schema import Question, QuestionSet
from prompts.strings import t
from prompts.themes import load_themes, theme_label
from storage.models import (
    ActionItem,
    AgreedPosition,
    CoreGroup,
    Member,
    MemberRole,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)
from storage.submitted import SubmittedAnswer, submitted_answers

# Free text from these questions is structured content, kept in the case-file version.
KEPT_TEXT_PURPOSES = frozenset({"child_voice", "family_voice"})


# The record's words for a participation that ended without taking part.
ABSENCE = {ParticipationState.AWAY.value: "away", ParticipationState.LEFT.value: "left the group"}


def _labels(question: Question) -> dict[str, str]:
    """Choice value -> label, in the set's order (the dialogue's own labels)."""
    return {v: choice_label(question, v) for v in question.choice_values}


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _question_view(
    number: int,
    question: Question,
    answers: list[tuple[Member, SubmittedAnswer]],
    position: AgreedPosition | None,
    key_points_only: bool,
    language: str = "en",
) -> QuestionView:
    labels = _labels(question)
    keep_text = not key_points_only or question.purpose in KEPT_TEXT_PURPOSES
    shown: list[MemberAnswer] = []
    chosen: Counter[str] = Counter()
    for member, answer in answers:
        choice = None
        if answer.choice and not answer.skipped:
            choice = labels.get(answer.choice, answer.choice)
            chosen[choice] += 1
        comment = answer.comment if keep_text and not answer.skipped else None
        comment = comment.strip() if comment and comment.strip() else None
        if key_points_only and choice is None and comment is None:
            continue  # nothing structured left to show for this member
        shown.append(
            MemberAnswer(
                member=member.display_name,
                agency=member.agency,
                choice=choice,
                comment=comment,
                skipped=answer.skipped,
            )
        )
    tally = {label: chosen.get(label, 0) for label in labels.values()}
    for label, count in chosen.items():  # values the set no longer lists still count
        tally.setdefault(label, count)
    split = question.kind in ("yes_no", "choice") and len(chosen) > 1
    agreed = notes = None
    key_point = False
    if position is not None:
        labels = {**labels, "not_agreed": t("close.not_agreed_label", language)}
        agreed = labels.get(position.position, position.position) if position.position else None
        key_point = position.key_point
        if position.notes and (key_point or not key_points_only):
            notes = position.notes.strip() or None
    return QuestionView(
        id=question.id,
        number=number,
        headline=question.headline,
        guidance=question.guidance,
        kind=question.kind,
        purpose=question.purpose,
        answers=tuple(shown),
        tally=Tally(tally),
        split=split,
        agreed=agreed,
        agreed_notes=notes,
        key_point=key_point,
    )


def _question_set(core: Core, session: ReflectionSession, language: str) -> QuestionSet:
    try:
        # The questions the session opened with, worded in the record's language.
        return pinned_set(core, session, language)
    except KeyError:
        raise CoreGroupError(
            "The question set this session used is no longer installed, so the record "
            "cannot be compiled. Ask an admin to restore it."
        ) from None


def _facilitator(group: CoreGroup, session: ReflectionSession, members: list[Member]) -> Person:
    by_user = {m.user_id: m for m in members}
    found = by_user.get(group.facilitator_id) or next(
        (m for m in members if m.role == MemberRole.FACILITATOR), None
    )
    found = found or by_user.get(session.closed_by or "") or by_user.get(session.opened_by)
    if found is None:
        return Person(name="Not recorded", role=MemberRole.FACILITATOR.value)
    return Person(name=found.display_name, agency=found.agency, role=MemberRole.FACILITATOR.value)


@dataclass(frozen=True)
class _Loaded:
    """Everything a record is built from, read in one transaction."""

    session: ReflectionSession
    group: CoreGroup
    org: Organisation | None
    members: list[Member]
    participations: list[Participation]
    answers: list[SubmittedAnswer]
    positions: list[AgreedPosition]
    actions: list[ActionItem]
    path: TrajectoryView | None


async def _load(core: Core, session_id: int) -> _Loaded:
    async with core.db.read() as s:
        session = await s.get(ReflectionSession, session_id)
        if session is None:
            raise NotFound("I couldn't find that session.")
        group = await s.get(CoreGroup, session.group_id)
        if group is None:
            raise NotFound("I couldn't find the core group for that session.")
        org = await s.get(Organisation, group.org_id)
        members = list((await s.exec(select(Member).where(Member.group_id == group.id))).all())
        participations = list(
            (
                await s.exec(select(Participation).where(Participation.session_id == session_id))
            ).all()
        )
        answers = await submitted_answers(s, session_id)  # never anyone's unsubmitted draft
        positions = list(
            (
                await s.exec(select(AgreedPosition).where(AgreedPosition.session_id == session_id))
            ).all()
        )
        actions = list(
            (
                await s.exec(
                    select(ActionItem)
                    .where(ActionItem.session_id == session_id)
                    .order_by(ActionItem.id)  # type: ignore[arg-type]
                )
            ).all()
        )
        path = None
        if session.status == SessionStatus.CLOSED:
            path = await load_trajectory(s, core, group, org, until=session)
    return _Loaded(session, group, org, members, participations, answers, positions, actions, path)


def _attendees(
    ordered: list[Member],
    participations: list[Participation],
    answers: list[SubmittedAnswer],
    facilitator_ids: set[int | None],
) -> list[Person]:
    """Who took part and who did not (and why), in name order.

    "Took part" means submitted (the facilitator may record otherwise in the close form).
    """
    submitted_ids = {p.member_id for p in participations if p.finished_at is not None}
    answered_ids = {a.member_id for a in answers if not a.skipped} | submitted_ids
    part_by_member = {p.member_id: p for p in participations}
    attendees: list[Person] = []
    for m in ordered:
        part = part_by_member.get(m.id or -1)
        if m.id in facilitator_ids and part is None and m.id not in answered_ids:
            continue  # shown as the facilitator
        if m.role == MemberRole.CHAIR and part is None:
            continue  # the conference chair does not take part in supervision
        if part is None and not m.active:
            continue
        if part is not None and part.attended is not None:
            attended = part.attended
        else:
            attended = m.id in answered_ids
        attendees.append(
            Person(
                name=m.display_name,
                agency=m.agency,
                role=str(m.role),
                attended=attended,
                absence=ABSENCE.get(str(part.state) if part else "", "did not take part"),
            )
        )
    return attendees


def _action_view(item: ActionItem, member_by_id: dict[int | None, Member]) -> ActionView:
    owner = member_by_id.get(item.owner_member_id) if item.owner_member_id else None
    return ActionView(
        text=item.text,
        owner=owner.display_name if owner else None,
        owner_agency=(owner.agency or None) if owner else None,
        due=item.due_on,
        due_text=_long_date(item.due_on) if item.due_on else "No date set",
        status=str(item.status),
    )


async def build_record(
    core: Core, session_id: int, *, key_points_only: bool = False, include_private: bool = False
) -> RecordView:
    """The record of one session. ``include_private`` adds facilitator-only questions.

    In ``key_points_only`` mode (the case-file version) members' comments, notes
    not marked as key points, takeaways and themes are left out; choices, tallies, agreed
    positions, actions and the child's and family's voice stay.
    """
    loaded = await _load(core, session_id)
    session, group, org, members = loaded.session, loaded.group, loaded.org, loaded.members
    participations, answers, positions = loaded.participations, loaded.answers, loaded.positions
    actions, path = loaded.actions, loaded.path

    tz = _tz(org.timezone if org else group.timezone)
    qset = _question_set(core, session, org.language if org else "en")
    member_by_id = {m.id: m for m in members}
    facilitator = _facilitator(group, session, members)
    facilitator_ids = {m.id for m in members if m.user_id == group.facilitator_id}

    ordered = sorted(members, key=lambda m: (m.display_name.casefold(), m.id or 0))
    attendees = _attendees(ordered, participations, answers, facilitator_ids)
    order = {m.id: i for i, m in enumerate(ordered)}

    by_question: dict[str, list[tuple[Member, SubmittedAnswer]]] = {}
    for a in sorted(answers, key=lambda a: order.get(a.member_id, 0)):
        member = member_by_id.get(a.member_id)
        if member is not None:
            by_question.setdefault(a.question_id, []).append((member, a))
    position_by_q = {p.question_id: p for p in positions}

    questions = tuple(
        _question_view(
            number,
            q,
            by_question.get(q.id, []),
            position_by_q.get(q.id),
            key_points_only,
            org.language if org else "en",
        )
        for number, q in enumerate(qset.questions, start=1)
        if include_private or q.audience == "group"
    )

    action_views = [_action_view(item, member_by_id) for item in actions]

    moment = session.closed_at or session.opened_at
    day = _local_date(moment, tz)
    themes = load_themes()
    return RecordView(
        session_id=session_id,
        set_id=qset.id,
        set_title=qset.title,
        status=str(session.status),
        date=day,
        date_text=_long_date(day),
        timezone=tz.key,
        facilitator=facilitator,
        attendees=tuple(attendees),
        child_ref=group.child_ref,
        opening_prompt=qset.opening_prompt,
        questions=questions,
        actions=tuple(action_views),
        family_sharing=(session.family_sharing or "").strip() or None,
        takeaways=None if key_points_only else ((session.takeaways or "").strip() or None),
        themes=() if key_points_only else tuple(theme_label(t, themes) for t in session.themes),
        escalation=None if key_points_only else ((session.escalation or "").strip() or None),
        key_points_only=key_points_only,
        organisation=org.name if org else "",
        attendee_count=sum(1 for p in attendees if p.attended),
        trajectory=path,
        child_life=(session.child_life or "").strip() or None,
        language=org.language if org else "en",
        protective_marking=core.protective_marking,
    )


def render_record(view: RecordView, target: Target) -> str:
    """The record as text for one target markup; every value escaped for that target."""
    return render(target, "record", r=view)


# An escape sequence or a tag that a chunk boundary must never cut through.
_ATOM = re.compile(r"&#?[A-Za-z0-9]{1,10};|\\.|[\u200b\u2060].|<[^<>\n]{1,200}>|.", re.DOTALL)


def _hard_split(line: str, limit: int) -> list[str]:
    """Split one over-long line between words, else between atoms (never inside an escape)."""
    pieces: list[str] = []
    current = ""
    for word in re.findall(r"\S+\s*|\s+", line):
        if len(current) + len(word) <= limit:
            current += word
            continue
        if current:
            pieces.append(current)
            current = ""
        if len(word) <= limit:
            current = word
            continue
        atoms = _ATOM.findall(word)
        if any(len(a) > limit for a in atoms):
            atoms = list(word)  # a limit this small cannot keep any sequence whole
        for atom in atoms:
            if len(current) + len(atom) > limit and current:
                pieces.append(current)
                current = ""
            current += atom
    if current:
        pieces.append(current)
    return pieces


def split_for_limit(text: str, limit: int) -> list[str]:
    """Chunks of at most ``limit`` characters, cut at blank lines, then lines, then words."""
    if limit < 16:
        raise ValueError("limit is too small to hold a record")
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""

    def flush() -> None:
        nonlocal current
        if current.strip():
            chunks.append(current.rstrip("\n"))
        current = ""

    for block in re.split(r"(?<=\n\n)", text):
        if len(current) + len(block) <= limit:
            current += block
            continue
        flush()
        if len(block) <= limit:
            current = block
            continue
        for line in block.splitlines(keepends=True):
            if len(current) + len(line) <= limit:
                current += line
                continue
            flush()
            if len(line) <= limit:
                current = line
                continue
            for piece in _hard_split(line, limit):
                if len(current) + len(piece) > limit:
                    flush()
                current += piece
    flush()
    return chunks
