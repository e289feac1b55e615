"""The tables. Every datetime is aware UTC; every practitioner-written text is a SealedText.

Identifiers that reach a platform (button values, modal metadata, scheduler keys) are these
integer ids only: never a child reference, a name or an answer.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint, event, inspect, text, update
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from storage.types import SealedText, UTCDateTime, utcnow


def _when(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, **kw)


def _sealed(nullable: bool = True) -> Any:
    return Field(default=None, sa_type=SealedText, nullable=nullable)


class GroupStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"  # the child protection plan ended: no more nudges


class MemberRole(StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"
    CO_FACILITATOR = "co_facilitator"
    CHAIR = "chair"  # conference chair: may never facilitate this child's supervision


class OrgRole(StrEnum):
    ADMIN = "admin"
    LEAD_OFFICER = "lead_officer"
    FACILITATOR = "facilitator"  # a Reviewing Officer who may be named facilitator of groups


class SessionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ParticipationState(StrEnum):
    INVITED = "invited"
    ANSWERING = "answering"
    AWAITING_TEXT = "awaiting_text"
    REVIEWING = "reviewing"
    DONE = "done"
    DEFERRED = "deferred"  # pressed "Not now"
    AWAY = "away"  # on leave when invited: not asked, recorded as away
    LEFT = "left"  # removed from the group before submitting: recorded as "left the group"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class Organisation(SQLModel, table=True):
    """A Slack workspace, a Teams tenant or the console: the unit of isolation."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    timezone: str = Field(default="Europe/London", max_length=64)
    nation: str = Field(default="ENG", max_length=3)
    language: str = Field(default="en", max_length=5)
    child_names_allowed: bool = False
    created_at: datetime = _when(default_factory=utcnow)


class StaffRole(SQLModel, table=True):
    """Organisation-wide roles: admins, Lead Officers and Reviewing Officers."""

    __table_args__ = (UniqueConstraint("org_id", "user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    user_id: str = Field(max_length=64)
    role: OrgRole = Field(sa_type=String(20))
    language: str | None = Field(default=None, max_length=5)


class PersonPreference(SQLModel, table=True):
    """A person's own choices in one organisation (the language the bot speaks to them)."""

    __tablename__ = "person_preference"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    user_id: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=5)


class CoreGroup(SQLModel, table=True):
    """The professionals around one child on a child protection plan, bound to a channel."""

    __tablename__ = "core_group"
    __table_args__ = (UniqueConstraint("org_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    child_ref: str = Field(max_length=64)
    registered_on: date
    pre_birth: bool = False
    rcppm_on: date | None = None
    facilitator_id: str = Field(max_length=64)
    chair_id: str | None = Field(default=None, max_length=64)
    channel_id: str = Field(max_length=64)
    status: GroupStatus = Field(default=GroupStatus.ACTIVE, sa_type=String(10))
    timezone: str = Field(default="Europe/London", max_length=64)
    schedule_anchor: str = Field(default="registration", max_length=16)
    last_supervision_on: date | None = None
    snoozed_until: date | None = None
    # The date the facilitator picked for the meeting: the channel hears nothing until then, and
    # on the day it is reminded (handlers/scheduling/channel_nudges.py). Past dates mean nothing.
    planned_on: date | None = None
    # The planner's own bookmark: the next local date on which this group's nudges could change
    # (NULL: check at the next sweep). Reset whenever a schedule input changes (see below).
    next_check_on: date | None = Field(default=None, index=True)
    created_at: datetime = _when(default_factory=utcnow)
    # When the plan ended (GroupStatus.ENDED): nudges stop and the group's retention clock
    # starts (handlers/governance/retention.py). Cleared again by `/reflect resume`.
    ended_at: datetime | None = _when(nullable=True, default=None)
    ended_reason: str | None = _sealed()


class Member(SQLModel, table=True):
    """A professional in a core group, known by their platform user id."""

    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="core_group.id", index=True)
    user_id: str = Field(max_length=64, index=True)
    display_name: str = Field(max_length=120)
    agency: str = Field(default="", max_length=120)
    role: MemberRole = Field(default=MemberRole.MEMBER, sa_type=String(20))
    on_leave_until: date | None = None
    active: bool = True


class ReflectionSession(SQLModel, table=True):
    """One supervision/reflection of a core group, answered with one question set version."""

    __tablename__ = "reflection_session"
    __table_args__ = (
        # At most one open session per group, enforced by the database on both backends.
        Index(
            "uq_one_open_session",
            "group_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="core_group.id", index=True)
    set_id: str = Field(max_length=64)
    set_version: int
    status: SessionStatus = Field(default=SessionStatus.OPEN, sa_type=String(10))
    opened_by: str = Field(max_length=64)
    opened_at: datetime = _when(default_factory=utcnow)
    closes_at: datetime | None = _when(nullable=True, default=None)
    closed_by: str | None = Field(default=None, max_length=64)
    closed_at: datetime | None = _when(nullable=True, default=None)
    family_sharing: str | None = _sealed()
    takeaways: str | None = _sealed()
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    escalation: str | None = _sealed()
    record_final: bool = False
    # The group's answer to "What is life like for this child?", from the close form.
    child_life: str | None = _sealed()
    # The questions this session opened with (each as the set had it), in order: a session is
    # pinned to them, so a changed or reordered YAML set never changes an open or closed one.
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class Participation(SQLModel, table=True):
    """One member's progress through a session's dialogue: the persisted state machine."""

    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="reflection_session.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    state: ParticipationState = Field(default=ParticipationState.INVITED, sa_type=String(16))
    # The question the member is on (an id in the session's pinned questions; None: the first).
    position: str | None = Field(default=None, max_length=64)
    pending_question: str | None = Field(default=None, max_length=64)
    pending_kind: str | None = Field(default=None, max_length=16)
    return_to_review: bool = False
    attended: bool | None = None
    # The member's session role in sets with roles (action learning: presenter/enabler/observer).
    role: str | None = Field(default=None, max_length=32)
    started_at: datetime | None = _when(nullable=True, default=None)
    finished_at: datetime | None = _when(nullable=True, default=None)
    updated_at: datetime = _when(default_factory=utcnow)
    version: int = 0


class Answer(SQLModel, table=True):
    """A member's answer to one question: a choice and/or a comment; editable until close.

    ``choice``/``comment``/``skipped`` are the member's draft, theirs alone. Submitting copies
    them into the ``submitted_*`` columns, the only values that ever leave the member
    (``storage/submitted.py``); later edits stay drafts until the member submits again.
    """

    __table_args__ = (UniqueConstraint("session_id", "member_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="reflection_session.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    question_id: str = Field(max_length=64)
    choice: str | None = Field(default=None, max_length=32)
    comment: str | None = _sealed()
    skipped: bool = False
    answered_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    submitted: bool = False
    submitted_choice: str | None = Field(default=None, max_length=32)
    submitted_comment: str | None = _sealed()
    submitted_skipped: bool = False


class AgreedPosition(SQLModel, table=True):
    """The position the group agreed on a question, recorded by the facilitator."""

    __tablename__ = "agreed_position"
    __table_args__ = (UniqueConstraint("session_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="reflection_session.id", index=True)
    question_id: str = Field(max_length=64)
    position: str | None = Field(default=None, max_length=32)
    notes: str | None = _sealed()
    key_point: bool = False
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = _when(default_factory=utcnow)


class ActionItem(SQLModel, table=True):
    """An action agreed in a session: what, who, by when."""

    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="reflection_session.id", index=True)
    group_id: int = Field(foreign_key="core_group.id", index=True)
    text: str = Field(sa_type=SealedText)
    owner_member_id: int | None = Field(default=None, foreign_key="member.id")
    due_on: date | None = None
    status: ActionStatus = Field(default=ActionStatus.OPEN, sa_type=String(10))
    created_at: datetime = _when(default_factory=utcnow)
    done_at: datetime | None = _when(nullable=True, default=None)


class AuditEvent(SQLModel, table=True):
    """Append-only log of who did what; each row chains the previous row's hash."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(default_factory=utcnow)
    org_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=40)
    subject: str = Field(default="", max_length=80)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
    # How ``hash`` was made (storage.audit_key): "hmac-sha256:<key id>", or "sha256" before 0003.
    hash_alg: str = Field(default="", max_length=24)
    # Position in the whole chain, never reused (an anchor's count; purges do not renumber).
    seq: int = Field(default=0, unique=True)


class MessageRef(SQLModel, table=True):
    """Where a message the bot posted lives, so it can be updated in place later."""

    __tablename__ = "message_ref"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=120)
    ref: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when(default_factory=utcnow)


class InboundSeen(SQLModel, table=True):
    """Deliveries already handled (Slack event_id / action, Teams activity id): dedupe."""

    __tablename__ = "inbound_seen"

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = _when(default_factory=utcnow, index=True)


class InboundWork(SQLModel, table=True):
    """A delivery acknowledged but not yet handled: kept until handled, so ``kill -9`` after
    the ack loses nothing. ``payload`` (the neutral event and its reply context, as JSON) is
    sealed like answers. ``owner`` is the process holding it until ``lease_until``."""

    __tablename__ = "inbound_work"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    payload: str = Field(sa_type=SealedText)
    owner: str = Field(max_length=40)
    lease_until: datetime = _when(index=True)
    attempts: int = 0
    created_at: datetime = _when(default_factory=utcnow)


class ConversationRef(SQLModel, table=True):
    """How to reach a user or channel proactively (Teams conversation reference, Slack DM id)."""

    __tablename__ = "conversation_ref"
    __table_args__ = (UniqueConstraint("platform", "org_external_id", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    org_external_id: str = Field(max_length=64)
    target: str = Field(max_length=120)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when(default_factory=utcnow)


class SlackInstallation(SQLModel, table=True):
    """The Slack bot's token for one workspace (``bot/platforms/slack/installations.py``)."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # "" instead of NULL so the unique key works the same on SQLite and PostgreSQL.
    enterprise_id: str = Field(default="", max_length=32, index=True)
    team_id: str = Field(default="", max_length=32, index=True)
    is_enterprise_install: bool = False
    app_id: str | None = Field(default=None, max_length=32)
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_token: str = Field(sa_type=SealedText)
    bot_scopes: str = Field(default="", max_length=1000)
    installer_user_id: str | None = Field(default=None, max_length=32)
    installed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlackOAuthState(SQLModel, table=True):
    """One-time Slack OAuth ``state`` values, valid for a few minutes."""

    __tablename__ = "slack_oauth_state"

    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """The scheduler's ledger: one row per nudge or reminder, unique by key, sent exactly once."""

    __table_args__ = (
        Index("ix_delivery_due", "status", "due_at"),
        Index("ix_delivery_group", "group_id", "kind", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=32)
    group_id: int | None = Field(default=None, foreign_key="core_group.id")
    session_id: int | None = Field(default=None, foreign_key="reflection_session.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    action_id: int | None = Field(default=None, foreign_key="action_item.id")
    due_at: datetime = _when()
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    lease_until: datetime | None = _when(nullable=True, default=None)
    sent_at: datetime | None = _when(nullable=True, default=None)
    sent_ref: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, max_length=200)


class SessionDebrief(SQLModel, table=True):
    """The facilitator's private note after a session: never in the group record.

    One note a session, shared by its facilitator and co-facilitators only.
    """

    __tablename__ = "session_debrief"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="reflection_session.id", unique=True)
    text: str = Field(sa_type=SealedText)
    written_by: str = Field(max_length=64)
    updated_at: datetime = _when(default_factory=utcnow)


# ---- the planner's bookmark follows every schedule input ------------------------------------

SCHEDULE_INPUTS = (
    "registered_on",
    "pre_birth",
    "rcppm_on",
    "schedule_anchor",
    "status",
    "last_supervision_on",
    "snoozed_until",
    "planned_on",
    "org_id",
)


@event.listens_for(Session, "before_flush")
def _schedule_inputs_changed(session: Session, _context: Any, _instances: Any) -> None:
    """A group whose dates, status or snooze changed, or whose sessions opened, closed or went,
    is checked again at the next planning sweep (``CoreGroup.next_check_on`` back to NULL)."""
    group_ids: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, CoreGroup):
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in SCHEDULE_INPUTS):
                obj.next_check_on = None
        elif isinstance(obj, ReflectionSession):
            state = inspect(obj)
            if any(state.attrs[n].history.has_changes() for n in ("status", "closed_at")):
                group_ids.add(obj.group_id)
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, ReflectionSession) and obj.group_id is not None:
            group_ids.add(obj.group_id)
    if group_ids:
        table: Any = CoreGroup.__table__  # type: ignore[attr-defined]
        session.connection().execute(
            update(table).where(table.c.id.in_(sorted(group_ids))).values(next_check_on=None)
        )
